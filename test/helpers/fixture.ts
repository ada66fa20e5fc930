// The afterEach every proxy integration test needs: what a test starts (mock backends,
// the proxy, raw clients, other servers) is put in the fixture, and closed after it.
import { afterEach } from 'vitest';
import type { Proxy } from '../../proxy/proxy.ts';
import type { MockBackend } from '../../simulator/mock-backend.ts';
import { greeted } from './defenses.ts';
import { closeAll } from './proxy.ts';
import type { RawClient } from './raw-smtp.ts';

export interface Fixture {
  mocks: MockBackend[];
  proxy: Proxy | undefined;
  clients: RawClient[];
  /** more things to stop after the test (scripted backends, sinks) */
  cleanup: Array<() => Promise<void>>;
  /** Connects from `local` to the proxy, keeps the client for cleanup, returns it with its banner. */
  open(local?: string): ReturnType<typeof greeted>;
}

export function proxyFixture(): Fixture {
  const f: Fixture = {
    mocks: [],
    proxy: undefined,
    clients: [],
    cleanup: [],
    async open(local) {
      const g = await greeted(f.proxy!.address.port, local);
      f.clients.push(g.c);
      return g;
    },
  };
  afterEach(async () => {
    for (const c of f.clients.splice(0)) c.close();
    await closeAll(f.proxy, f.mocks);
    for (const c of f.cleanup.splice(0)) await c();
    f.proxy = undefined;
    f.mocks = [];
  });
  return f;
}
