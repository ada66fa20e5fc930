import { afterEach, describe, expect, it } from 'vitest';
import { RawClient } from '../helpers/raw-smtp.ts';
import { backends, closeAll, message, proxyFor } from '../helpers/proxy.ts';
import type { MockBackend } from '../../simulator/mock-backend.ts';
import { Proxy } from '../../proxy/proxy.ts';
import { parseProxyConfig } from '../../proxy/config/load.ts';
import { scriptedBackend, smtpScript } from '../helpers/scripted-backend.ts';

let mocks: MockBackend[] = [];
let proxy: Proxy | undefined;
afterEach(async () => {
  await closeAll(proxy, mocks);
  proxy = undefined;
  mocks = [];
});

/** Sends `n` messages, one per connection, from client address 127.0.<i>.1 (or as `from` says). */
async function sendMany(n: number, opts: { sender?: (i: number) => string; client?: (i: number) => string } = {}): Promise<number[]> {
  const codes: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = await RawClient.connect(proxy!.address.port, opts.client?.(i));
    await c.read();
    const r = await c.send(opts.sender?.(i) ?? `s${i}@sender.test`, ['b@example.test'], message(`m${i}`));
    codes.push(r?.code ?? 0);
    await c.cmd('QUIT');
    c.close();
  }
  return codes;
}

const counts = () => mocks.map((m) => m.received.length);

describe('load balancing', () => {
  it('round-robin spreads messages evenly', async () => {
    mocks = await backends(3);
    proxy = await proxyFor(mocks, { backends: { strategy: 'round-robin' } });
    expect(await sendMany(9)).toEqual(Array(9).fill(250));
    expect(counts()).toEqual([3, 3, 3]);
  });

  it('weighted 1:1:2 gives 25/25/50 % within a few messages', async () => {
    mocks = await backends(3);
    proxy = await proxyFor(mocks, { backends: { strategy: 'weighted' } }, [{ weight: 1 }, { weight: 1 }, { weight: 2 }]);
    await sendMany(8);
    expect(counts()).toEqual([2, 2, 4]);
  });

  it('least-connections prefers the backend with fewer transactions in flight', async () => {
    mocks = await backends(2, (i) => ({ latency: i === 0 ? 300 : 0 }));
    proxy = await proxyFor(mocks, { backends: { strategy: 'least-connections' } });
    // a slow transaction holds mx1; while it is in flight the others go to mx2
    const slow = RawClient.connect(proxy.address.port).then(async (c) => {
      await c.read();
      const r = await c.send('slow@sender.test', ['b@example.test'], message('slow'));
      c.close();
      return r;
    });
    await new Promise((r) => setTimeout(r, 50));
    await sendMany(4);
    expect((await slow)?.code).toBe(250);
    expect(counts()).toEqual([1, 4]);
  });

  it('hash-sender keeps each sender on one backend', async () => {
    mocks = await backends(3);
    proxy = await proxyFor(mocks, { backends: { strategy: 'hash-sender' } });
    await sendMany(12, { sender: (i) => `sender${i % 4}@sender.test` });
    for (const m of mocks) {
      const senders = new Set(m.received.map((r) => r.from));
      for (const s of senders) expect(mocks.filter((o) => o.received.some((r) => r.from === s))).toHaveLength(1);
    }
    expect(counts().reduce((a, b) => a + b)).toBe(12);
  });

  it('hash-client keeps each client address on one backend', async () => {
    mocks = await backends(3);
    proxy = await proxyFor(mocks, { backends: { strategy: 'hash-client' } });
    await sendMany(12, { client: (i) => `127.0.9.${(i % 3) + 1}` });
    const where = (ip: string) => mocks.filter((m) => m.received.some((r) => r.raw.toString().includes(`[${ip}]`))).length;
    for (const ip of ['127.0.9.1', '127.0.9.2', '127.0.9.3']) expect(where(ip)).toBe(1);
  });
});

describe('failover', () => {
  it('moves the transaction to a healthy backend when one is down, and the client never notices', async () => {
    mocks = await backends(2);
    proxy = await proxyFor(mocks);
    await mocks[0].stop();
    expect(await sendMany(6)).toEqual(Array(6).fill(250));
    expect(mocks[1].received).toHaveLength(6);
    expect(proxy.state().backends.find((b) => b.name === 'mx1')?.health).toBe('down');
  });

  it('keeps delivering when a backend goes down mid-run, and takes it back when it returns', async () => {
    mocks = await backends(2);
    proxy = await proxyFor(mocks);
    expect(await sendMany(4)).toEqual(Array(4).fill(250));
    await mocks[0].stop();
    expect(await sendMany(6)).toEqual(Array(6).fill(250));
    const before = mocks[0].received.length;
    await mocks[0].start();
    // health checks run every second with rise 1
    const deadline = Date.now() + 5000;
    while (proxy.state().backends.find((b) => b.name === 'mx1')?.health !== 'up' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await sendMany(4);
    expect(mocks[0].received.length).toBeGreaterThan(before);
    expect(mocks[0].received.length + mocks[1].received.length).toBe(14);
  });

  it('fails over from a backend that never answers, and counts that against it', async () => {
    const silent = await scriptedBackend(smtpScript((verb) => (verb === 'MAIL' ? 'hang' : undefined)));
    mocks = await backends(1);
    const config = parseProxyConfig({
      listen: '127.0.0.1:0',
      relay: { domains: ['example.test'] },
      backends: {
        strategy: 'round-robin',
        commandTimeout: '300ms',
        healthCheck: { enabled: false },
        servers: [
          { name: 'silent', address: silent.address },
          { name: 'mx1', address: mocks[0].address },
        ],
      },
    });
    proxy = await Proxy.start(config, { processMetrics: false });
    expect(await sendMany(2)).toEqual([250, 250]);
    expect(mocks[0].received).toHaveLength(2);
    expect(silent.lines.filter((l) => l.startsWith('MAIL'))).toHaveLength(2);
    expect(proxy.state().backends.map((b) => [b.name, b.failures])).toEqual([['silent', 2], ['mx1', 0]]);
    await silent.close();
  });

  it('answers 451 4.3.2 quickly when no backend is available', async () => {
    mocks = await backends(2);
    proxy = await proxyFor(mocks);
    await mocks[0].stop();
    await mocks[1].stop();
    const c = await RawClient.connect(proxy.address.port);
    await c.read();
    await c.cmd('EHLO me.test');
    const started = Date.now();
    const r = await c.cmd('MAIL FROM:<a@sender.test>');
    expect(r?.code).toBe(451);
    expect(r?.text).toMatch(/^4\.3\.2 /);
    expect(Date.now() - started).toBeLessThan(3000);
    c.close();
  });
});
