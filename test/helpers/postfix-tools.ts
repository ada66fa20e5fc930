// Postfix's smtp-sink and smtp-source and swaks, as real peers of the proxy.
// CI installs them (.ci/run); elsewhere a missing tool skips its tests.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export function hasTool(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** In CI a missing tool is a failure (the install step broke), not a reason to skip. */
export function toolsMissing(...names: string[]): boolean {
  const missing = names.filter((n) => !hasTool(n));
  if (missing.length && process.env.CI) throw new Error(`CI is missing ${missing.join(', ')}: .ci/run should have installed them`);
  return missing.length > 0;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/**
 * The first of `count` consecutive free loopback ports (`--backend-port N` takes N, N+1, ...):
 * a free port whose neighbours are free too, bound all at once to be sure.
 */
export async function freePortRun(count: number): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const base = await freePort();
    if (base + count - 1 > 65535) continue;
    const servers: net.Server[] = [];
    let ok = true;
    for (let i = 1; i < count && ok; i++) {
      const server = net.createServer();
      ok = await new Promise<boolean>((resolve) => {
        server.once('error', () => resolve(false));
        server.listen(base + i, '127.0.0.1', () => resolve(true));
      });
      if (ok) servers.push(server);
    }
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    if (ok) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

export interface Sink {
  port: number;
  address: string;
  dir: string;
  pid: number | undefined;
  /** The messages smtp-sink dumped, each with its X-Client-Addr / X-Mail-Args / X-Rcpt-Args preamble. */
  dumps(): string[];
  stop(): Promise<void>;
}

/** Resolves once something accepts connections on the loopback port. */
export async function waitListening(port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** smtp-sink on a free loopback port, dumping every message into a folder of its own. */
export async function startSink(extraArgs: string[] = [], dump = true): Promise<Sink> {
  const dir = mkdtempSync(path.join(tmpdir(), 'attitude-sink-'));
  chmodSync(dir, 0o777);
  const port = await freePort();
  const args = [...(process.getuid?.() === 0 ? ['-u', 'nobody'] : []), ...(dump ? ['-d', `${dir}/%d%H%M%S.`] : []), '-h', 'sink.test', ...extraArgs, `127.0.0.1:${port}`, '256'];
  const child: ChildProcess = spawn('smtp-sink', args, { stdio: 'ignore' });
  await waitListening(port);
  return {
    port,
    address: `127.0.0.1:${port}`,
    dir,
    pid: child.pid,
    dumps: () => readdirSync(dir).sort().map((f) => readFileSync(path.join(dir, f), 'latin1')),
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function run(cmd: string, args: string[], timeoutMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
