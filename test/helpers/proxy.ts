// Starting the proxy and mock backends on 127.0.0.1 port 0 for integration tests.
import { parseProxyConfig, type ProxyConfig } from '../../proxy/config/load.ts';
import { Proxy, type ProxyOptions } from '../../proxy/proxy.ts';
import { MockBackend, type MockBackendOptions } from '../../simulator/mock-backend.ts';

export async function backends(n: number, options: MockBackendOptions | ((i: number) => MockBackendOptions) = {}): Promise<MockBackend[]> {
  return Promise.all(
    Array.from({ length: n }, (_, i) => new MockBackend({ name: `mx${i + 1}`, ...(typeof options === 'function' ? options(i) : options) }).start()),
  );
}

/** A config for `mocks` with `overrides` merged into one that has every defense loose. */
export function looseConfig(mocks: Array<Pick<MockBackend, 'name' | 'address'>>, overrides: Record<string, unknown> = {}, servers: Record<string, unknown>[] = []): ProxyConfig {
  const { backends: backendOverrides, ...rest } = overrides as { backends?: Record<string, unknown> };
  return parseProxyConfig({
    listen: '127.0.0.1:0',
    admin: '127.0.0.1:0',
    relay: { domains: ['example.test'] },
    shutdownTimeout: '5s',
    connections: { perClient: 1000, perNetwork: 5000, max: 5000, rate: 'off', networkRate: 'off' },
    messages: { rate: 'off', senderRate: 'off', recipientRate: 'off' },
    throttle: { perClient: 'off', global: 'off' },
    ...rest,
    backends: {
      healthCheck: { interval: '1s', timeout: '500ms', rise: 1, fall: 1 },
      ...backendOverrides,
      servers: mocks.map((m, i) => ({ name: m.name, address: m.address, ...(servers[i] ?? {}) })),
    },
  });
}

/** A proxy in front of `mocks`, with `overrides` merged into a config that has every defense loose. */
export async function proxyFor(
  mocks: Array<Pick<MockBackend, 'name' | 'address'>>,
  overrides: Record<string, unknown> = {},
  servers: Record<string, unknown>[] = [],
  options: ProxyOptions = {},
): Promise<Proxy> {
  return Proxy.start(looseConfig(mocks, overrides, servers), { processMetrics: false, ...options });
}

type Closable = { close(): Promise<void> } | { stop(): Promise<void> };

export async function closeAll(...things: Array<Closable | undefined | Closable[]>): Promise<void> {
  for (const t of things.flat()) {
    if (!t) continue;
    if ('stop' in t) await t.stop();
    else await t.close();
  }
}

export function message(id: string, extra = ''): string {
  return `From: a@sender.test\r\nTo: b@example.test\r\nSubject: test ${id}\r\nDate: ${new Date().toUTCString()}\r\nMessage-ID: <${id}@sender.test>\r\nX-Attitude-Id: ${id}\r\n${extra}\r\nHello ${id}\r\n`;
}
