// Connection management on real sockets: global and per-client caps, the connection
// rate (a sliding-window counter in the memory store), deny and allow lists, the
// greet pause against early talkers, and the seed's promise (a patient legitimate
// sender delivers while a flood from other addresses is refused).
import { afterEach, describe, expect, it } from 'vitest';
import { RawClient } from '../helpers/raw-smtp.ts';
import { backends, closeAll, message, proxyFor } from '../helpers/proxy.ts';
import net from 'node:net';
import { addr, greeted, proxyWithOptions, refusals, sleep, slowStore, timed, until } from '../helpers/defenses.ts';
import { MemoryStore } from '../../proxy/store/memory-store.ts';
import type { MockBackend } from '../../simulator/mock-backend.ts';
import type { Proxy } from '../../proxy/proxy.ts';

let mocks: MockBackend[] = [];
let proxy: Proxy | undefined;
let clients: RawClient[] = [];
afterEach(async () => {
  for (const c of clients) c.close();
  clients = [];
  await closeAll(proxy, mocks);
  proxy = undefined;
  mocks = [];
});

/** Connects from `local`, keeps the client for cleanup, returns it with its first reply. */
async function open(local?: string, port = proxy!.address.port) {
  const g = await greeted(port, local);
  clients.push(g.c);
  return g;
}

describe('connection caps', () => {
  it('refuses beyond connections.max with 421 4.7.0 naming the limit, closes, and counts it', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { connections: { max: 3, perClient: 100, rate: 'off', reserve: { share: 0 } } });
    for (let i = 0; i < 3; i++) expect((await open(addr(1, i))).banner?.code).toBe(220);
    const { c, banner } = await open(addr(1, 3));
    expect(banner?.code).toBe(421);
    expect(banner?.text).toMatch(/^4\.7\.0 too many connections.*limit 3/);
    expect(await c.waitClosed(3000)).toBe(true);
    expect(await refusals(proxy, 'connections-global', { stage: 'connect', code: '421' })).toBe(1);
    // a slot that frees up is available again
    clients[0].close();
    await sleep(100);
    expect((await open(addr(1, 4))).banner?.code).toBe(220);
  });

  it('caps connections per client address; other addresses are unaffected', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { connections: { perClient: 2, rate: 'off' } });
    const a = addr(2, 0);
    expect((await open(a)).banner?.code).toBe(220);
    expect((await open(a)).banner?.code).toBe(220);
    const third = await open(a);
    expect(third.banner?.code).toBe(421);
    expect(third.banner?.text).toMatch(/^4\.7\.0 too many connections from your address \(limit 2\)/);
    expect(await third.c.waitClosed(3000)).toBe(true);
    // other clients still get in, and can send mail
    for (let i = 1; i <= 3; i++) {
      const other = await open(addr(2, i));
      expect(other.banner?.code).toBe(220);
    }
    const last = clients[clients.length - 1];
    expect((await last.send('x@sender.test', ['b@example.test'], message('pc1')))?.code).toBe(250);
    expect(await refusals(proxy, 'connections-per-client', { stage: 'connect', code: '421' })).toBe(1);
    // the refused connection held no slot: closing one admitted connection lets exactly one more in
    clients[0].close();
    await sleep(100);
    expect((await open(a)).banner?.code).toBe(220);
    expect((await open(a)).banner?.code).toBe(421);
  });

  it('limits the connection rate per client address (421), other addresses unaffected', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { connections: { rate: '5/1m' } });
    const a = addr(3, 0);
    for (let i = 0; i < 5; i++) {
      const { c, banner } = await open(a);
      expect(banner?.code).toBe(220);
      c.close();
    }
    const sixth = await open(a);
    expect(sixth.banner?.code).toBe(421);
    expect(sixth.banner?.text).toMatch(/^4\.7\.0 connection rate limit exceeded for your address \(limit 5\/1m, retry in \d+s\)/);
    expect(await sixth.c.waitClosed(3000)).toBe(true);
    expect((await open(addr(3, 1))).banner?.code).toBe(220);
    expect(await refusals(proxy, 'connection-rate', { stage: 'connect', code: '421' })).toBe(1);
  });

  it('counts the rate in a sliding window, not a fixed one: the count of the previous window still weighs at the boundary', async () => {
    // memory store: previous-window count * (share still inside the sliding window) + current count
    const W = 2000;
    let now = 1_000 * W + 20; // just after a window boundary (windows are aligned to the epoch)
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { connections: { rate: '3/2s' } }, [], { clock: () => now });
    const a = addr(4, 0);
    for (let i = 0; i < 3; i++) {
      const { c, banner } = await open(a);
      expect(banner?.code).toBe(220);
      c.close();
    }
    // just after the next boundary a fixed window would start from zero; the sliding one
    // still counts ~3 (refused until 2/3 of the previous window has slid out, ~667 ms)
    now = 1_001 * W + 60;
    expect((await open(a)).banner?.code).toBe(421);
    // once enough of the previous window has slid out there is room again: 3 * 0.5 + 1 <= 3
    now = 1_001 * W + 1000;
    expect((await open(a)).banner?.code).toBe(220);
  });
});

describe('admission with a store that answers late (as Redis does)', () => {
  it('frees the slots of clients that hang up while admission is still deciding', async () => {
    mocks = await backends(1);
    proxy = await proxyWithOptions(mocks, { connections: { max: 3, perClient: 2, rate: 'off', reserve: { share: 0 } } }, { store: slowStore(new MemoryStore(Date.now), 80) });
    const port = proxy.address.port;
    // ten clients connect and reset at once, long before the store answers
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        new Promise<void>((resolve) => {
          const s = net.connect({ host: '127.0.0.1', port, localAddress: addr(12, i % 2) }, () => {
            s.resetAndDestroy();
            resolve();
          });
          s.on('error', () => resolve());
        }),
      ),
    );
    expect(await until(() => proxy!.state().connections.active === 0, 3000)).toBe(true);
    // neither the global nor the per-client slots leaked
    for (let i = 0; i < 2; i++) expect((await open(addr(12, 0))).banner?.code).toBe(220);
    expect((await open(addr(12, 1))).banner?.code).toBe(220);
    expect((await open(addr(12, 2))).banner?.code).toBe(421);
  });
});

describe('deny and allow lists', () => {
  it('refuses a denied IPv4 network with 554 5.7.1 and closes; others get in', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { connections: { deny: ['127.5.0.0/16'] } });
    const denied = await open(addr(5, 7));
    expect(denied.banner?.code).toBe(554);
    expect(denied.banner?.text).toMatch(/^5\.7\.1 access denied/);
    expect(await denied.c.waitClosed(3000)).toBe(true);
    expect((await open(addr(6, 0))).banner?.code).toBe(220);
    expect(await refusals(proxy, 'client-denied', { stage: 'connect', code: '554' })).toBe(1);
  });

  it('matches IPv6 entries, and IPv4 entries for IPv4 clients of a dual-stack listener', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { listen: '[::]:0', connections: { deny: ['::1/128', '127.7.0.0/16'] } });
    const port = proxy.address.port;
    // bound to ::1 and connected to ::1 (the listener is dual-stack)
    const c6 = await RawClient.connect(port, '::1', '::1');
    clients.push(c6);
    const r = await c6.read();
    expect(r?.code).toBe(554);
    expect(r?.text).toMatch(/^5\.7\.1 access denied/);
    expect(await c6.waitClosed(3000)).toBe(true);
    // an IPv4 client reaches the IPv6 socket as ::ffff:127.7.0.1 and still matches 127.7.0.0/16
    expect((await open(addr(7, 0), port)).banner?.code).toBe(554);
    expect((await open(addr(8, 0), port)).banner?.code).toBe(220);
  });

  it('lets an allowed network past every connection cap, while others are capped', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { connections: { max: 3, perClient: 1, rate: '2/1m', allow: ['127.9.0.0/16'] } });
    for (let i = 0; i < 6; i++) expect((await open(addr(9, 0))).banner?.code).toBe(220);
    // 6 connections are open: the global cap refuses anyone else
    expect((await open(addr(10, 0))).banner?.code).toBe(421);
  });
});

describe('greet pause (early talkers)', () => {
  it('refuses a client that talks before the banner with 554 5.5.1 and greets a patient one', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { connections: { greetPause: '300ms' } });
    const early = await RawClient.connect(proxy.address.port, addr(11, 0));
    clients.push(early);
    early.write('EHLO impatient.test\r\n');
    const r = await early.read(3000);
    expect(r?.code).toBe(554);
    expect(r?.text).toMatch(/^5\.5\.1 protocol error: talked before the greeting/);
    expect(await early.waitClosed(3000)).toBe(true);

    const { ms, value } = await timed(() => greeted(proxy!.address.port, addr(11, 1)));
    clients.push(value.c);
    expect(value.banner?.code).toBe(220);
    expect(ms).toBeGreaterThanOrEqual(250);
    expect((await value.c.send('a@sender.test', ['b@example.test'], message('patient')))?.code).toBe(250);
    expect(mocks[0].received.map((m) => m.id)).toEqual(['patient']);
    expect(await refusals(proxy, 'early-talker', { stage: 'connect', code: '554' })).toBe(1);
  });
});

describe("the seed's promise", () => {
  it('a patient legitimate sender delivers everything while a flood from 20 other addresses is mostly refused', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, {
      connections: { perClient: 2, rate: '10/1m', greetPause: '200ms', max: 1000 },
      messages: { rate: '100/1m', senderRate: '100/1m', recipientRate: '1000/1m' },
    });
    const port = proxy.address.port;
    let admitted = 0;
    let refused = 0;
    let earlyRefused = 0;
    const flood = async (i: number) => {
      const attempts = Array.from({ length: 15 }, async (_, k) => {
        // waves over ~1 s, so the flood lasts as long as the legitimate session
        await sleep(k * 70);
        let c: RawClient;
        try {
          c = await RawClient.connect(port, addr(20, i));
        } catch {
          refused++;
          return;
        }
        clients.push(c);
        // a third of the bots talk right away, the others wait and hold the connection
        if (k % 3 === 0) c.write('EHLO bot.test\r\n');
        const r = await c.read(5000).catch(() => null);
        if (r?.code === 220) admitted++;
        else {
          refused++;
          if (r?.code === 554 && /^5\.5\.1/.test(r.text)) earlyRefused++;
        }
      });
      await Promise.all(attempts);
    };
    const legit = (async () => {
      const { c, banner } = await greeted(port, addr(21, 0));
      clients.push(c);
      expect(banner?.code).toBe(220);
      const codes: number[] = [];
      for (let m = 0; m < 10; m++) {
        codes.push((await c.send('legit@sender.test', ['b@example.test'], message(`legit-${m}`)))?.code ?? 0);
        await sleep(20);
      }
      await c.cmd('QUIT');
      return codes;
    })();
    const [codes] = await Promise.all([legit, ...Array.from({ length: 20 }, (_, i) => flood(i))]);
    expect(codes).toEqual(Array(10).fill(250));
    expect(mocks[0].received.filter((m) => m.id?.startsWith('legit-'))).toHaveLength(10);
    expect(admitted + refused).toBe(300);
    // at most 2 held per address: 40 of 300; early talkers are refused whatever the caps say
    expect(admitted).toBeLessThanOrEqual(40);
    expect(refused).toBeGreaterThanOrEqual(260);
    expect(earlyRefused).toBeGreaterThan(0);
  });
});
