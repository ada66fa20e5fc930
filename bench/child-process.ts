// A benchmark participant in a process of its own (sink, relay): it prints its port
// as the first line on stdout. Its CPU time is read from /proc, so the bench can say
// what each one costs per message, whatever the other processes take of the cores.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface BenchChild {
  port: number;
  address: string;
  pid: number;
  stop(): Promise<void>;
}

/** Runs `file` (TypeScript, in bench/) with `args`; resolves once it printed its port. */
export async function startBenchChild(file: string, args: string[] = []): Promise<BenchChild> {
  const runTs = path.resolve(import.meta.dirname, '../bin/run-ts.js');
  const child = spawn(process.execPath, [runTs, path.resolve(import.meta.dirname, file), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d) => resolve(Number(String(d).trim())));
    child.once('exit', (code) => reject(new Error(`${file} exited ${code}`)));
  });
  child.stdout!.resume();
  return {
    port,
    address: `127.0.0.1:${port}`,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/** User + system CPU time of a process in µs; null where there is no /proc (or it has gone). */
export function cpuMicros(pid: number | undefined): number | null {
  const t = cpuTimes(pid);
  return t && t.user + t.system;
}

/** User and system CPU time of a process in µs, apart; null where there is no /proc (or it has gone). */
export function cpuTimes(pid: number | undefined): { user: number; system: number } | null {
  if (pid === undefined) return null;
  try {
    // fields after the command name: state is field 3, utime and stime are 14 and 15
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // in clock ticks, 100 per second on Linux (sysconf(_SC_CLK_TCK))
    return { user: Number(fields[11]) * 10_000, system: Number(fields[12]) * 10_000 };
  } catch {
    return null;
  }
}
