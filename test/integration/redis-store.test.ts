// Shared limit state on a real redis-server: several instances, one limit.
import { afterEach, describe, expect, it } from 'vitest';
import { RedisStore, StoreUnavailableError } from '../../proxy/store/redis-store.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { toolsMissing } from '../helpers/postfix-tools.ts';
import { backends, closeAll, proxyFor } from '../helpers/proxy.ts';
import { RawClient } from '../helpers/raw-smtp.ts';
import type { MockBackend } from '../../simulator/mock-backend.ts';
import type { Proxy } from '../../proxy/proxy.ts';

let redis: RedisServer | undefined;
const stores: RedisStore[] = [];
let mocks: MockBackend[] = [];
const proxies: Proxy[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  await closeAll(proxies.splice(0), mocks);
  mocks = [];
  await redis?.stop();
  redis = undefined;
});

async function store(opts: Partial<ConstructorParameters<typeof RedisStore>[0]> = {}): Promise<RedisStore> {
  const s = new RedisStore({ url: redis!.url, failMode: 'open', ...opts });
  stores.push(s);
  await s.ready();
  return s;
}

describe.skipIf(toolsMissing('redis-server'))('redis store', () => {
  it('two instances share one concurrency limit and one rate', async () => {
    redis = await startRedis();
    const a = await store();
    const b = await store();
    expect((await a.acquire('conn:127.0.0.9', 2)).allowed).toBe(true);
    expect((await b.acquire('conn:127.0.0.9', 2)).allowed).toBe(true);
    expect(await a.acquire('conn:127.0.0.9', 2)).toEqual({ allowed: false, current: 2 });
    await b.release('conn:127.0.0.9');
    expect((await a.acquire('conn:127.0.0.9', 2)).allowed).toBe(true);
    const hits = [];
    for (let i = 0; i < 6; i++) hits.push((await (i % 2 ? a : b).hit('rate:x', 4, 60_000)).allowed);
    expect(hits).toEqual([true, true, true, true, false, false]);
    const refused = await a.hit('rate:x', 4, 60_000);
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(120_000);
  });

  it('two instances share remembered values and counters, and they expire', async () => {
    redis = await startRedis();
    const a = await store();
    const b = await store();
    expect(await a.remember('grey:t', 1000, 300)).toBe(1000);
    expect(await b.remember('grey:t', 5000, 300)).toBe(1000);
    expect(await a.increment('grey-passed:n', 60_000)).toBe(1);
    expect(await b.increment('grey-passed:n', 60_000)).toBe(2);
    expect(await a.count('grey-passed:n')).toBe(2);
    expect(await b.count('nothing')).toBe(0);
    await new Promise((r) => setTimeout(r, 400));
    expect(await b.remember('grey:t', 5000, 300)).toBe(5000);
  });

  it('greylisting across two proxy instances: a triplet greylisted by one passes the other after the delay', async () => {
    redis = await startRedis();
    mocks = await backends(1);
    const config = { store: redis.url, relay: { domains: ['example.test'], clients: [] }, greylist: { enabled: true, delay: '700ms', autoAllow: 0 } };
    proxies.push(await proxyFor(mocks, config), await proxyFor(mocks, config));
    const send = async (p: Proxy) => {
      const c = await RawClient.connect(p.address.port, '127.0.31.7');
      await c.read();
      const r = await c.send('a@sender.test', ['b@example.test'], 'Subject: grey\r\n\r\nhello\r\n');
      c.close();
      return r;
    };
    expect(await send(proxies[0])).toMatchObject({ code: 450, text: expect.stringMatching(/^4\.7\.1 greylisted, try again in 1 s$/) });
    expect((await send(proxies[1]))?.code).toBe(450);
    await new Promise((r) => setTimeout(r, 800));
    expect((await send(proxies[1]))?.code).toBe(250);
    expect(mocks[0].received).toHaveLength(1);
  });

  it('the slots of an instance that died expire by themselves', async () => {
    redis = await startRedis();
    const dead = await store({ slotTtlMs: 300 });
    const alive = await store({ slotTtlMs: 300 });
    expect((await dead.acquire('conn:c', 1)).allowed).toBe(true);
    // the instance dies: no more renewals, no release
    const internals = dead as unknown as { renewTimer: NodeJS.Timeout; redis: { disconnect(): void }; held: Map<string, unknown> };
    clearInterval(internals.renewTimer);
    internals.redis.disconnect();
    internals.held.clear();
    expect((await alive.acquire('conn:c', 1)).allowed).toBe(false);
    await new Promise((r) => setTimeout(r, 450));
    expect((await alive.acquire('conn:c', 1)).allowed).toBe(true);
    // a live instance keeps its slot past the ttl by renewing it
    await new Promise((r) => setTimeout(r, 600));
    expect(await alive.current('conn:c')).toBe(1);
  });

  it('fail-open counts locally while Redis is down and goes back to Redis when it returns', async () => {
    redis = await startRedis();
    const changes: boolean[] = [];
    const s = await store({ onStateChange: (up) => changes.push(up) });
    await redis.stop();
    const started = Date.now();
    expect((await s.acquire('conn:d', 1)).allowed).toBe(true);
    expect((await s.acquire('conn:d', 1)).allowed).toBe(false);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(s.fallbacks).toBeGreaterThan(0);
    expect(changes).toEqual([false]);
    await s.release('conn:d');
    await redis.start();
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && !(await s.hit('probe', 100, 1000)) && !s.available) await new Promise((r) => setTimeout(r, 100));
    while (Date.now() < deadline && !s.available) {
      await s.hit('probe', 100, 1000);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(s.available).toBe(true);
    expect(changes).toEqual([false, true]);
  });

  it('fail-closed refuses fast instead of hanging', async () => {
    redis = await startRedis();
    const s = await store({ failMode: 'closed' });
    await redis.stop();
    const started = Date.now();
    await expect(s.hit('k', 1, 1000)).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('two proxies on one Redis enforce one per-client connection limit', async () => {
    redis = await startRedis();
    mocks = await backends(1);
    for (let i = 0; i < 2; i++) proxies.push(await proxyFor(mocks, { store: redis.url, connections: { perClient: 2, max: 100, rate: 'off' } }));
    const ip = '127.0.12.1';
    const a1 = await RawClient.connect(proxies[0].address.port, ip);
    expect((await a1.read())?.code).toBe(220);
    const b1 = await RawClient.connect(proxies[1].address.port, ip);
    expect((await b1.read())?.code).toBe(220);
    const b2 = await RawClient.connect(proxies[1].address.port, ip);
    const refused = await b2.read();
    expect(refused?.code).toBe(421);
    expect(refused?.text).toMatch(/^4\.7\.0 too many connections from your address/);
    // another client is not affected
    const other = await RawClient.connect(proxies[0].address.port, '127.0.12.2');
    expect((await other.read())?.code).toBe(220);
    for (const c of [a1, b1, b2, other]) c.close();
  });

  it('a proxy with fail-closed answers 421 while its Redis is down', async () => {
    redis = await startRedis();
    mocks = await backends(1);
    proxies.push(await proxyFor(mocks, { store: redis.url, storeFailMode: 'closed', connections: { perClient: 5, max: 100, rate: 'off' } }));
    await redis.stop();
    const c = await RawClient.connect(proxies[0].address.port, '127.0.12.3');
    const r = await c.read();
    expect(r?.code).toBe(421);
    expect(r?.text).toMatch(/^4\.3\.0 limit store unavailable/);
    c.close();
  });
});
