// `attitude proxy` started as a user starts it, for benchmarks that need it in a
// process of its own (all cores, or measuring its memory).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface CliProxy {
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Writes `configLines` (YAML, with `listen: 127.0.0.1:0` and `log: { level: info }`) and starts the proxy; `nodeArgs` go to node (--cpu-prof). */
export async function startCliProxy(configLines: string[], workers: number, nodeArgs: string[] = []): Promise<CliProxy> {
  const dir = mkdtempSync(path.join(tmpdir(), 'attitude-bench-'));
  const file = path.join(dir, 'proxy.yaml');
  writeFileSync(file, ['listen: 127.0.0.1:0', 'log: { level: info }', ...configLines].join('\n') + '\n');
  const child = spawn(process.execPath, [...nodeArgs, path.resolve(import.meta.dirname, '../bin/attitude.js'), 'proxy', '--config', file, '--workers', String(workers)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d;
      const m = /"listen":"127\.0\.0\.1:(\d+)"/.exec(out);
      if (!m) return;
      // the log of every transaction follows: keep reading it so the pipe never fills
      child.stdout!.off('data', onData);
      child.stdout!.resume();
      resolve(Number(m[1]));
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`attitude proxy exited ${code}: ${out}`)));
  });
  return {
    port,
    child,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
