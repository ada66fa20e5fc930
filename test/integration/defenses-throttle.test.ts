// Bandwidth throttling, measured on real sockets: the per-client token bucket slows a
// 400 KB push at 100 KB/s to about 4 s, per-client buckets are independent, the global
// bucket is shared fairly, and nothing is lost or altered on the way.
import { afterEach, describe, expect, it } from 'vitest';
import { RawClient } from '../helpers/raw-smtp.ts';
import { backends, closeAll, proxyFor } from '../helpers/proxy.ts';
import { addr, adminGet, bigMessage, metricValue, openData, sha256, tailOf } from '../helpers/defenses.ts';
import type { MockBackend } from '../../simulator/mock-backend.ts';
import type { Proxy } from '../../proxy/proxy.ts';

let mocks: MockBackend[] = [];
let proxy: Proxy | undefined;
afterEach(async () => {
  await closeAll(proxy, mocks);
  proxy = undefined;
  mocks = [];
});

const KB = 1024;

interface Push {
  id: string;
  sent: Buffer;
  code: number | undefined;
  /** from the first byte of the message to the final reply */
  ms: number;
}

/** One client from `local` pushes a message of `bytes` in one write and waits for the verdict. */
async function push(local: string, id: string, bytes: number): Promise<Push> {
  const c = await RawClient.connect(proxy!.address.port, local);
  try {
    await c.read();
    const replies = await openData(c, `${id}@sender.test`, ['b@example.test']);
    expect(replies.at(-1)?.code).toBe(354);
    const sent = bigMessage(id, bytes, id.length * 7919);
    const t0 = performance.now();
    c.write(Buffer.concat([sent, Buffer.from('.\r\n')]));
    const r = await c.read(20_000);
    const ms = performance.now() - t0;
    await c.cmd('QUIT');
    return { id, sent, code: r?.code, ms };
  } finally {
    c.close();
  }
}

/** The backend got each message once, byte for byte (the proxy only prepends its header lines). */
function expectIntact(pushes: Push[]): void {
  for (const p of pushes) {
    const got = mocks[0].received.filter((m) => m.id === p.id);
    expect(got, p.id).toHaveLength(1);
    expect(sha256(tailOf(got[0].raw, p.sent.length)), p.id).toBe(sha256(p.sent));
    const head = got[0].raw.subarray(0, got[0].raw.length - p.sent.length).toString('latin1');
    expect(head, p.id).toMatch(/^Received: /);
  }
}

const secs = (ms: number) => Math.round(ms / 100) / 10;

describe('bandwidth throttling', () => {
  it('slows one client pushing 400 KB at perClient 100KB/s to about 4 s, and loses nothing', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { throttle: { perClient: '100KB/s', global: 'off' }, messages: { maxSize: '10MB' } });
    const p = await push(addr(50, 0), 'solo', 400 * KB);
    console.info(`throttle: 400 KB at perClient 100KB/s took ${secs(p.ms)} s`);
    expect(p.code).toBe(250);
    expect(p.ms).toBeGreaterThan(3000);
    expect(p.ms).toBeLessThan(6000);
    expectIntact([p]);
    const { body } = await adminGet(proxy, '/metrics');
    expect(metricValue(body, 'attitude_throttle_wait_seconds_total', { scope: 'client' })).toBeGreaterThan(2);
  });

  it('keeps per-client buckets independent: two clients at once each still take about 4 s', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { throttle: { perClient: '100KB/s', global: 'off' } });
    const t0 = performance.now();
    const pushes = await Promise.all([push(addr(51, 0), 'pair-a', 400 * KB), push(addr(51, 1), 'pair-b', 400 * KB)]);
    const wall = performance.now() - t0;
    console.info(`throttle: two clients x 400 KB at perClient 100KB/s took ${pushes.map((p) => secs(p.ms)).join(' s and ')} s (wall ${secs(wall)} s)`);
    for (const p of pushes) {
      expect(p.code).toBe(250);
      expect(p.ms).toBeGreaterThan(3000);
      expect(p.ms).toBeLessThan(6000);
    }
    // concurrent, not one after the other
    expect(wall).toBeLessThan(7000);
    expectIntact(pushes);
  });

  it('shares the global bucket fairly: two clients of 200 KB at global 100KB/s each take about 4 s and finish together', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { throttle: { perClient: 'off', global: '100KB/s' } });
    // and a third client with a small message in the middle of it is not starved by the two big ones
    const small = (async () => {
      await new Promise((r) => setTimeout(r, 1500));
      return push(addr(52, 2), 'fair-small', 2 * KB);
    })();
    const pushes = await Promise.all([push(addr(52, 0), 'fair-a', 200 * KB), push(addr(52, 1), 'fair-b', 200 * KB)]);
    const [a, b] = pushes.map((p) => p.ms);
    const s = await small;
    console.info(`throttle: two clients x 200 KB sharing global 100KB/s took ${secs(a)} s and ${secs(b)} s; a 2 KB message meanwhile ${Math.round(s.ms)} ms`);
    expect(s.code).toBe(250);
    expect(s.ms).toBeLessThan(1000);
    for (const p of pushes) {
      expect(p.code).toBe(250);
      expect(p.ms).toBeGreaterThan(3000);
      expect(p.ms).toBeLessThan(6000);
    }
    // fairness: neither got the bucket to itself while the other waited
    expect(Math.abs(a - b) / Math.max(a, b)).toBeLessThan(0.3);
    expectIntact([...pushes, s]);
    const { body } = await adminGet(proxy, '/metrics');
    expect(metricValue(body, 'attitude_throttle_wait_seconds_total', { scope: 'global' })).toBeGreaterThan(1);
  });

  it('counts per client address: two connections from one address share its bucket', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { throttle: { perClient: '100KB/s', global: 'off' } });
    const pushes = await Promise.all([push(addr(53, 0), 'same-a', 200 * KB), push(addr(53, 0), 'same-b', 200 * KB)]);
    console.info(`throttle: two connections from one address x 200 KB at perClient 100KB/s took ${pushes.map((p) => secs(p.ms)).join(' s and ')} s`);
    // 400 KB through one 100KB/s bucket: about 4 s, where separate buckets would take 2
    for (const p of pushes) expect(p.code).toBe(250);
    expect(Math.max(...pushes.map((p) => p.ms))).toBeGreaterThan(3000);
    expect(Math.max(...pushes.map((p) => p.ms))).toBeLessThan(6000);
    expectIntact(pushes);
  });

  it('does not take a throttled sender for an idle one: waiting at the gate is not idleness', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { throttle: { perClient: '32KB/s', global: 'off' }, connections: { idleTimeout: '1s' } });
    const p = await push(addr(54, 0), 'slow-lane', 96 * KB);
    console.info(`throttle: 96 KB at perClient 32KB/s with idleTimeout 1s took ${secs(p.ms)} s`);
    expect(p.code).toBe(250);
    expect(p.ms).toBeGreaterThan(2000);
    expectIntact([p]);
  });
});
