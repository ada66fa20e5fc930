// flood, slowloris and early-talker against the proxy and against a bare mock backend.
import { afterEach, describe, expect, it } from 'vitest';
import { backends, closeAll, proxyFor } from '../helpers/proxy.ts';
import { sleep, until } from '../helpers/defenses.ts';
import { MockBackend } from '../../simulator/mock-backend.ts';
import { runActors } from '../../simulator/harness.ts';
import type { Proxy } from '../../proxy/proxy.ts';

let mocks: MockBackend[] = [];
let proxy: Proxy | undefined;
afterEach(async () => {
  await closeAll(proxy, mocks);
  proxy = undefined;
  mocks = [];
});

const at = (m: MockBackend) => ({ host: m.host, port: m.port });

describe('flood', () => {
  it('holds what the per-client cap allows and is refused beyond it; everything is let go at the end', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { connections: { perClient: 5, max: 5000, rate: 'off' } });
    const p = proxy;
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, p.state().connections.active)), 50);
    const r = await runActors({
      actors: [{ name: 'flood', kind: 'flood', clients: 2, connections: 20, hold: '1500ms', rampUp: '200ms', reconnect: '5s' }],
      targets: [proxy.address],
      duration: '2s',
    });
    clearInterval(sampler);
    const flood = r.ledger.actors[0];
    expect(flood.connections.attempted).toBe(40);
    expect(flood.connections.greeted).toBe(10);
    expect(flood.connections.refused).toBe(30);
    expect(flood.refusals['connections-per-client']).toBe(30);
    expect(peak).toBe(10);
    // greeted connections were held for their time
    const held = r.of('conn.closed').filter((e) => e.heldMs >= 1000);
    expect(held.length).toBe(10);
    expect(await until(() => proxy!.state().connections.active === 0)).toBe(true);
  });

  it('meets a bare mock backend at capacity with 421', async () => {
    mocks = [await new MockBackend({ name: 'mx1', capacity: 8 }).start()];
    const r = await runActors({
      actors: [{ name: 'flood', kind: 'flood', clients: 1, connections: 12, hold: '800ms', rampUp: '100ms', reconnect: '5s' }],
      targets: [at(mocks[0])],
      duration: '1s',
    });
    expect(r.ledger.actors[0].connections).toEqual({ attempted: 12, greeted: 8, refused: 4 });
    expect(r.of('conn.refused')[0]).toMatchObject({ code: 421, enhanced: '4.3.2' });
    expect(mocks[0].peakSessions).toBe(8);
  });

  it('meets a bare mock backend over its connection rate with 421', async () => {
    mocks = [await new MockBackend({ name: 'mx1', rate: { count: 5, perMs: 10_000 } }).start()];
    const r = await runActors({
      actors: [{ name: 'flood', kind: 'flood', clients: 1, connections: 8, hold: '300ms', rampUp: '100ms', reconnect: '5s' }],
      targets: [at(mocks[0])],
      backends: mocks,
      duration: '500ms',
    });
    expect(r.ledger.actors[0].connections).toEqual({ attempted: 8, greeted: 5, refused: 3 });
    expect(r.of('conn.refused')[0]).toMatchObject({ code: 421, enhanced: '4.7.0' });
    // the flood's sessions never carry mail: none of them is a peak session
    expect(r.ledger.backends[0]).toMatchObject({ name: 'mx1', refusedConnections: 3, peakConnections: 0 });
    expect(mocks[0].peakSessions).toBe(5);
  });
});

describe('slowloris', () => {
  it('keeps connections alive by dripping commands one byte at a time', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { connections: { perClient: 100, max: 5000, rate: 'off', idleTimeout: '1s' } });
    const r = await runActors({
      actors: [{ name: 'loris', kind: 'slowloris', clients: 1, connections: 3, drip: '50ms', hold: '2s', rampUp: '50ms' }],
      targets: [proxy.address],
      duration: '2200ms',
    });
    // held past the 1 s idle timeout, because a byte came every 50 ms
    const closed = r.of('conn.closed');
    expect(closed).toHaveLength(3);
    expect(closed.every((e) => e.heldMs >= 1800 && e.by === 'client')).toBe(true);
    // the dripped EHLO (22 bytes) was answered, then NOOPs
    const replies = r.of('reply');
    expect(replies.some((e) => e.stage === 'ehlo' && e.code === 250)).toBe(true);
    expect(replies.filter((e) => e.stage === 'other' && e.code === 250).length).toBeGreaterThan(0);
  });

  it('drips inside DATA at a bare mock backend, which receives nothing', async () => {
    mocks = await backends(1);
    const r = await runActors({
      actors: [{ name: 'loris', kind: 'slowloris', clients: 2, connections: 2, drip: '100ms', hold: '1s', mode: 'data' }],
      targets: [at(mocks[0])],
      backends: mocks,
      duration: '1200ms',
    });
    expect(r.of('reply').filter((e) => e.stage === 'data' && e.code === 354)).toHaveLength(4);
    expect(r.of('conn.closed').every((e) => e.heldMs >= 800)).toBe(true);
    expect(mocks[0].received).toHaveLength(0);
  });
});

describe('early-talker', () => {
  it('is refused with 554 5.5.1 by a proxy with a greet pause', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { connections: { perClient: 100, max: 5000, rate: 'off', greetPause: '300ms' } });
    const r = await runActors({
      actors: [{ name: 'talkers', kind: 'early-talker', clients: 3, arrival: { type: 'constant', rate: '10/s' } }],
      targets: [proxy.address],
      duration: '1s',
    });
    const results = r.of('early.result');
    expect(results).toHaveLength(10);
    expect(results.every((e) => e.outcome === 'refused' && e.code === 554)).toBe(true);
    expect(r.of('conn.refused')[0]).toMatchObject({ code: 554, enhanced: '5.5.1', reason: 'early-talker' });
    expect(r.ledger.actors[0].early).toEqual({ refused: 10, greeted: 0, other: 0 });
  });

  it('is greeted by a proxy without a greet pause, and by a bare mock backend', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks);
    for (const target of [proxy.address, at(mocks[0])]) {
      const r = await runActors({
        actors: [{ name: 'talkers', kind: 'early-talker', clients: 2, arrival: { type: 'constant', rate: '10/s' } }],
        targets: [target],
        duration: '500ms',
      });
      const results = r.of('early.result');
      expect(results).toHaveLength(5);
      expect(results.every((e) => e.outcome === 'greeted')).toBe(true);
    }
  });
});
