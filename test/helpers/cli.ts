// Running the `attitude` command as a user would, for CLI tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach } from 'vitest';
import type { Proxy } from '../../proxy/proxy.ts';
import type { MockBackend } from '../../simulator/mock-backend.ts';
import { closeAll } from './proxy.ts';

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

export interface CliFixture {
  /** a directory for the test's files, removed after the file's tests */
  tmp: string;
  mocks: MockBackend[];
  proxy: Proxy | undefined;
  /** the command under test, killed after each test if still running */
  running: Running | undefined;
}

/** What each CLI test starts (a command, mock backends, an in-process proxy), stopped after it. */
export function cliFixture(prefix: string): CliFixture {
  const f: CliFixture = { tmp: mkdtempSync(path.join(tmpdir(), `attitude-${prefix}-`)), mocks: [], proxy: undefined, running: undefined };
  afterAll(() => rmSync(f.tmp, { recursive: true, force: true }));
  afterEach(async () => {
    if (f.running && f.running.child.exitCode === null) {
      f.running.child.kill('SIGKILL');
      await f.running.exited;
    }
    f.running = undefined;
    await closeAll(f.proxy, f.mocks);
    f.proxy = undefined;
    f.mocks = [];
  });
  return f;
}
