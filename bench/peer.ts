// A peer a user would pick instead of attitude (HAProxy, Postfix, Haraka), started for
// the relay benchmark in a process (or process tree) of its own.
import { spawn, type ChildProcess } from 'node:child_process';

export interface BenchPeer {
  port: number;
  /** cumulative CPU µs of the peer's processes, null where /proc cannot tell */
  cpu(): number | null;
  stop(): Promise<void>;
}

/** The peer cannot run on this machine (not installed, not root): its rows are skipped with this reason. */
export class PeerMissing extends Error {}

/** Spawns a peer's foreground process, keeping the last of what it prints for the error of a failed start. */
export function spawnPeer(cmd: string, args: string[], env?: NodeJS.ProcessEnv): { child: ChildProcess; output(): string } {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
  let out = '';
  const keep = (d: Buffer) => (out = (out + d).slice(-4000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return { child, output: () => out };
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
