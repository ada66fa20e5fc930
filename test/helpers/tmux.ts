// A real terminal for TUI tests: a detached tmux session of a given size on its
// own server socket, driven with send-keys and read with capture-pane.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const hasTmux = spawnSync('sh', ['-c', 'command -v tmux']).status === 0;

export class TmuxTerminal {
  /** a server of its own, never the user's: its socket lives (and goes) with the test */
  private readonly dir = mkdtempSync(path.join(os.tmpdir(), 'attitude-tmux-'));
  private readonly socket = path.join(this.dir, 'sock');

  constructor(
    readonly width: number,
    readonly height: number,
  ) {}

  private tmux(...args: string[]): string {
    // TMUX unset: a test started from inside tmux still gets a server of its own
    const r = spawnSync('tmux', ['-S', this.socket, ...args], { encoding: 'utf8', env: { ...process.env, TERM: 'xterm-256color', TMUX: '' } });
    if (r.status !== 0) throw new Error(`tmux ${args[0]} failed: ${r.stderr}`);
    return r.stdout;
  }

  /** Runs a shell command in the terminal; the pane stays open after it ends. */
  start(command: string): void {
    this.tmux('new-session', '-d', '-s', 'test', '-x', String(this.width), '-y', String(this.height), `${command}; sleep 60`);
  }

  capture(): string {
    return this.tmux('capture-pane', '-p', '-t', 'test');
  }

  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', 'test', ...keys);
  }

  /** Polls the screen until it matches every pattern. */
  waitFor(patterns: RegExp[], timeoutMs = 15_000): Promise<string> {
    return this.waitUntil((screen) => patterns.every((p) => p.test(screen)), patterns.map(String).join(' and '), timeoutMs);
  }

  async waitUntil(ok: (screen: string) => boolean, what: string, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let screen = '';
    while (Date.now() < deadline) {
      screen = this.capture();
      if (ok(screen)) return screen;
      await new Promise((r) => setTimeout(r, 150));
    }
    throw new Error(`the terminal never showed ${what}; it shows:\n${screen}`);
  }

  close(): void {
    spawnSync('tmux', ['-S', this.socket, 'kill-server']);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Waits for a file the command in the terminal writes (its exit code). */
export async function waitForFile(file: string, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(file)) {
      const text = readFileSync(file, 'utf8').trim();
      if (text) return text;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no ${file} within ${timeoutMs}ms`);
}
