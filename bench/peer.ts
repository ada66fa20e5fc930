// A peer a user would pick instead of attitude (HAProxy, Postfix, Haraka), started for
// the relay benchmark in a process (or process tree) of its own.
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { waitListening } from '../test/helpers/postfix-tools.ts';
import { cpuMicros } from './child-process.ts';

export interface BenchPeer {
  port: number;
  /** cumulative CPU µs of the peer's processes, null where /proc cannot tell */
  cpu(): number | null;
  stop(): Promise<void>;
}

/** The peer cannot run on this machine (not installed, not root): its rows are skipped with this reason. */
export class PeerMissing extends Error {}

/**
 * Starts a peer's foreground process and waits until it listens on `port`; the peer
 * stops by its PID and takes its folder `dir` with it. A peer that never listens is
 * stopped, and the error carries the last of what it printed.
 */
export async function startPeer(o: { name: string; cmd: string; args: string[]; port: number; dir: string; waitMs: number }): Promise<BenchPeer> {
  const child = spawn(o.cmd, o.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => (out = (out + d).slice(-4000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const stop = async () => {
    await stopChild(child);
    rmSync(o.dir, { recursive: true, force: true });
  };
  try {
    await waitListening(o.port, o.waitMs);
  } catch {
    await stop();
    throw new Error(`${o.name} did not listen on 127.0.0.1:${o.port}: ${out}`);
  }
  return { port: o.port, cpu: () => cpuMicros(child.pid), stop };
}

/** SIGTERM to the process we started, by its PID; waits for it (SIGKILL after 5 s). */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
