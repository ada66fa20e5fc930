// Running the `attitude` command as a user would, for CLI tests.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const BIN = path.resolve(import.meta.dirname, '../../bin/attitude.js');

export interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  /** Resolves with the first stdout line that matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

export function runCli(args: string[], env: Record<string, string> = {}): Running {
  return runCommand(process.execPath, [BIN, ...args], { env });
}

/** Any command line, as a shell would start it (`./node_modules/.bin/attitude ...` in `cwd`). */
export function runCommand(command: string, args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Running {
  const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const watchers: Array<() => void> = [];
  child.stdout!.on('data', (d) => {
    out += d;
    for (const w of watchers) w();
  });
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(pattern, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = out.match(pattern);
          if (m) {
            clearTimeout(timer);
            resolve(m);
            return true;
          }
          return false;
        };
        const timer = setTimeout(() => reject(new Error(`no ${pattern} in output within ${timeoutMs}ms:\n${out}\n${err}`)), timeoutMs);
        if (!check()) watchers.push(check);
        void exited.then(() => {
          if (!check()) {
            clearTimeout(timer);
            reject(new Error(`exited without ${pattern}:\n${out}\n${err}`));
          }
        });
      });
    },
  };
}
