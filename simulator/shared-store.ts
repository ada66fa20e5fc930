// What several in-process proxy instances share their limits through: a real
// redis-server when the machine has one (as an ISP's MX hosts would), otherwise one
// in-memory store object, which gives the same exact limits without the network.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { MemoryStore } from '../proxy/store/memory-store.ts';
import type { CounterStore } from '../proxy/store/store.ts';

export interface SharedStore {
  /** `redis://...` for the proxies' config, or null when they share `store` below */
  url: string | null;
  store: CounterStore | null;
  label: string;
  stop(): Promise<void>;
}

function hasRedis(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v redis-server'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

async function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

export async function startSharedStore(): Promise<SharedStore> {
  if (!hasRedis()) {
    const store = new MemoryStore(Date.now);
    return { url: null, store, label: 'one in-memory store (no redis-server on this machine)', stop: () => store.close() };
  }
  const port = await freePort();
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const deadline = Date.now() + 5000;
  while (!(await reachable(port))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not start on 127.0.0.1:${port}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = `redis://127.0.0.1:${port}/0`;
  return {
    url,
    store: null,
    label: `redis-server at ${url}`,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    },
  };
}
