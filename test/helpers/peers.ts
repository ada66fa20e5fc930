// The peers shipped in scenarios/targets/ (HAProxy, Postfix), started from those very
// files with their ports moved to free ones: what a user compares attitude with,
// as the interop tests run it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_BACKEND_PORT } from '../../simulator/backends.ts';
import { postfixOrSkip, type PostfixServer } from './postfix-server.ts';
import { freePort, waitListening } from './postfix-tools.ts';

export const TARGETS_DIR = path.resolve(import.meta.dirname, '../../scenarios/targets');

/** How many backend ports the shipped configs relay to (2601, 2602, 2603). */
export const SHIPPED_BACKENDS = 3;

/** A shipped config with `listen` (HOST:PORT as shipped) moved to `port`, and the backends' ports from 2601 moved to `base`. */
export function movePorts(text: string, listen: string, port: number, base: number): string {
  return text.replaceAll(listen, `127.0.0.1:${port}`).replace(/127\.0\.0\.1\]?:(26\d\d)\b/g, (m, p: string) => m.replace(p, String(base + Number(p) - DEFAULT_BACKEND_PORT)));
}

export interface Peer {
  port: number;
  stop(): Promise<void>;
}

/** HAProxy from scenarios/targets/haproxy.cfg, in the foreground, stopped by its PID. */
export async function startHaproxy(base: number): Promise<Peer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'attitude-haproxy-'));
  const port = await freePort();
  const cfg = path.join(dir, 'haproxy.cfg');
  writeFileSync(cfg, movePorts(readFileSync(path.join(TARGETS_DIR, 'haproxy.cfg'), 'utf8'), '127.0.0.1:2925', port, base));
  const child: ChildProcess = spawn('haproxy', ['-f', cfg], { stdio: 'ignore', cwd: dir });
  try {
    await waitListening(port, 10_000);
  } catch (err) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The settings of the shipped main.cf that a private instance keeps (its folders are the helper's own). */
function shippedMainCf(base: number): string[] {
  const own = /^(queue_directory|data_directory|maillog_file|maillog_file_prefixes)\s*=/;
  return movePorts(readFileSync(path.join(TARGETS_DIR, 'postfix/main.cf'), 'utf8'), '127.0.0.1:2825', 0, base)
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#') && !own.test(l));
}

/** A private Postfix from scenarios/targets/postfix (postscreen in front of smtpd), or the test skipped. */
export function startPostfixPeer(ctx: { skip(note?: string): never }, base: number): Promise<PostfixServer> {
  const master = readFileSync(path.join(TARGETS_DIR, 'postfix/master.cf'), 'utf8');
  const files = { mime_header_checks: readFileSync(path.join(TARGETS_DIR, 'postfix/mime_header_checks'), 'utf8') };
  return postfixOrSkip(ctx, `127.0.0.1:${base}`, { mainCf: shippedMainCf(base), masterCf: (port) => movePorts(master, '127.0.0.1:2825', port, base), files });
}
