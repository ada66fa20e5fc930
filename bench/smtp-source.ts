// The load of the relay benchmarks: Postfix's smtp-source at a loopback port, and the
// CPU a target spent on it, read from /proc before and after.
import { spawn } from 'node:child_process';

export interface SourceLoad {
  sessions: number;
  messages: number;
  /** message length in bytes (smtp-source -l) */
  size: number;
  /** recipients per message (smtp-source -r); 1 by default */
  recipients?: number;
  /** the run is killed (and the bench fails) past this; 10 min by default */
  timeoutMs?: number;
}

/** Sends `load` with smtp-source (`keep`: one session for all its messages, -d); resolves with messages/s. */
export function smtpSource(port: number, keep: boolean, load: SourceLoad): Promise<number> {
  return new Promise((resolve, reject) => {
    const args = [
      ...(keep ? ['-d'] : []),
      '-s',
      String(load.sessions),
      '-m',
      String(load.messages),
      '-l',
      String(load.size),
      ...(load.recipients && load.recipients > 1 ? ['-r', String(load.recipients)] : []),
      '-f',
      'bench@sender.test',
      '-t',
      'rcpt@example.test',
      `127.0.0.1:${port}`,
    ];
    const started = process.hrtime.bigint();
    const child = spawn('smtp-source', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    const timeoutMs = load.timeoutMs ?? 600_000;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (signal === 'SIGKILL') return reject(new Error(`smtp-source to ${port} did not finish ${load.messages} messages within ${timeoutMs / 1000} s`));
      if (code !== 0) return reject(new Error(`smtp-source exited ${code}: ${err}`));
      resolve(load.messages / seconds);
    });
  });
}

export interface Run {
  /** messages/s */
  rate: number;
  /** CPU µs per message of the measured process(es); null where /proc cannot tell */
  cpu: number | null;
}

/** Runs `load` at `port` and reads the CPU (`cpu()`, µs, cumulative) the target spent on it. */
export async function measure(port: number, cpu: () => number | null, keep: boolean, load: SourceLoad): Promise<Run> {
  const before = cpu();
  const rate = await smtpSource(port, keep, load);
  const after = cpu();
  return { rate, cpu: before === null || after === null ? null : (after - before) / load.messages };
}

/** The run with the median rate (its CPU figure comes with it). */
export function median<T extends { rate: number }>(runs: T[]): T {
  return [...runs].sort((a, b) => a.rate - b.rate)[Math.floor(runs.length / 2)];
}
