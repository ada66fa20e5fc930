// What the proxy learns from its backends (issue: relay core, defects 2, 6, 7 and 8):
// a backend's refusal of one transaction is that transaction's answer, never a sign of
// sickness; health checks speak what the backend expects (the PROXY protocol); each
// worker keeps to its share of a backend's connections; a reply nobody asked for is
// never taken as the answer to the next command.
import { describe, expect, it } from 'vitest';
import { proxyFixture } from '../helpers/fixture.ts';
import { RawClient } from '../helpers/raw-smtp.ts';
import { backends, message, proxyFor } from '../helpers/proxy.ts';
import { addr, asBackend, sleep, until } from '../helpers/defenses.ts';
import { scriptedBackend, smtpScript } from '../helpers/scripted-backend.ts';
import type { MockBackend } from '../../simulator/mock-backend.ts';

const f = proxyFixture();

/** A greeted session after EHLO. */
async function session(local: string): Promise<RawClient> {
  const { c } = await f.open(local);
  expect((await c.cmd('EHLO client.test'))?.code).toBe(250);
  return c;
}

/** MAIL, the recipients, DATA and the message: each reply as `code text`. */
async function transaction(c: RawClient, rcpts: string[], id: string): Promise<string[]> {
  return (await c.transaction('a@sender.test', rcpts, message(id))).map((r) => `${r.code} ${r.text}`);
}

const FALL_1 = { healthCheck: { interval: '10s', timeout: '1s', rise: 1, fall: 1 } };
const GREYLIST = (a: string) => (a.startsWith('grey') ? { code: 450, text: '4.2.0 greylisted, come back later' } : null);

describe('backend replies to a transaction', () => {
  it('passes a 4xx to RCPT on and keeps the backend up (fall 1); the next recipient of the same transaction is delivered', async () => {
    f.mocks = await backends(2, { rcpt: GREYLIST });
    f.proxy = await proxyFor(f.mocks, { backends: FALL_1 });
    const c = await session(addr(86, 0));
    for (let i = 0; i < 4; i++) {
      const replies = await transaction(c, ['grey@example.test', 'ok@example.test'], `g${i}`);
      expect(replies[1]).toBe('450 4.2.0 greylisted, come back later');
      expect(replies[2]).toMatch(/^250 /);
      expect(replies[4]).toMatch(/^250 /);
    }
    expect(f.proxy.state().backends.map((b) => b.health)).toEqual(['up', 'up']);
    expect(f.proxy.state().backends.map((b) => b.failures)).toEqual([0, 0]);
    expect(f.mocks.flatMap((m) => m.received.map((r) => r.to))).toEqual(Array(4).fill(['ok@example.test']));
  });

  it("never replays a recipient one backend refused on another backend (that would bypass the first one's policy)", async () => {
    // mx2 accepts everyone; it only gets a transaction when mx1 cannot be had
    f.mocks = await backends(2, (i) => ({ rcpt: i === 0 ? GREYLIST : undefined }));
    f.proxy = await proxyFor(f.mocks, { backends: { ...FALL_1, strategy: 'weighted' } }, [{ weight: 1 }, { weight: 0 }]);
    const c = await session(addr(86, 1));
    expect(await transaction(c, ['grey@example.test'], 'g')).toEqual(['250 2.1.0 Ok', '450 4.2.0 greylisted, come back later']);
    expect(f.mocks[1].received).toHaveLength(0);
    await c.cmd('RSET');
    const ok = await transaction(c, ['ok@example.test'], 'ok');
    expect(ok[ok.length - 1]).toMatch(/^250 /);
    expect(f.mocks[0].received.map((m) => m.id)).toEqual(['ok']);
  });

  it.each([
    ['MAIL', '451 4.3.0 try again later'],
    ['MAIL', "450 4.7.1 <a@sender.test>: Sender address rejected: too much mail from 127.0.0.1"],
    ['DATA', '452 4.3.1 insufficient system storage'],
    ['.', '451 4.3.0 queue file write error'],
  ])('passes a 4xx to %s on as it is and keeps the backend up', async (verb, answer) => {
    const backend = await scriptedBackend(smtpScript((v) => (v === verb ? answer : undefined)));
    f.cleanup.push(backend.close);
    f.proxy = await proxyFor([asBackend<MockBackend>('mx1', backend.address)], { backends: FALL_1 });
    for (let i = 0; i < 3; i++) {
      const c = await session(addr(87, i));
      const replies = await transaction(c, ['b@example.test'], `t${i}`);
      expect(replies.at(-1)).toBe(answer);
      c.close();
    }
    expect(f.proxy.state().backends[0]).toMatchObject({ health: 'up', failures: 0 });
  });

  it('fails over when a backend says 421 (it is going away) and counts that against it', async () => {
    const closing = await scriptedBackend(smtpScript((v) => (v === 'MAIL' ? '421 4.3.2 shutting down' : undefined)));
    f.cleanup.push(closing.close);
    f.mocks = await backends(1);
    f.proxy = await proxyFor([asBackend<MockBackend>('closing', closing.address), f.mocks[0]], { backends: { ...FALL_1, strategy: 'round-robin' } });
    const c = await session(addr(87, 9));
    const replies = await transaction(c, ['b@example.test'], 'f421');
    expect(replies.at(-1)).toMatch(/^250 /);
    expect(f.mocks[0].received.map((m) => m.id)).toEqual(['f421']);
    expect(f.proxy.state().backends[0].health).toBe('down');
  });
});

describe('health checks', () => {
  it.each(['v1', 'v2'] as const)('speak the PROXY protocol %s to a backend that expects it, so it stays up', async (version) => {
    const backend = await scriptedBackend(smtpScript(), undefined, { proxyHeader: true });
    f.cleanup.push(backend.close);
    f.proxy = await proxyFor([asBackend<MockBackend>('pp', backend.address)], { backends: { healthCheck: { interval: '200ms', timeout: '150ms', rise: 1, fall: 1 } } }, [{ proxyProtocol: version }]);
    await sleep(1200);
    expect(backend.dropped()).toBe(0);
    expect(backend.headers.length).toBeGreaterThanOrEqual(3);
    expect(f.proxy.state().backends[0].health).toBe('up');
    const c = await session(addr(88, 7));
    expect((await transaction(c, ['b@example.test'], 'pp')).at(-1)).toMatch(/^250 /);
    expect(backend.headers.some((h) => 'ip' in h && h.ip === addr(88, 7))).toBe(true);
  });
});

describe('the share of one worker', () => {
  it("keeps to its share of a backend's maxConnections (2 split over 2 workers: 1)", async () => {
    f.mocks = await backends(1, { latency: 80 });
    f.proxy = await proxyFor(f.mocks, { backends: { healthCheck: { enabled: false } } }, [{ maxConnections: 2 }], { globalShare: 0.5 });
    const codes = await Promise.all(
      Array.from({ length: 4 }, async (_, i) => {
        const c = await RawClient.connect(f.proxy!.address.port, addr(89, i));
        await c.read();
        const r = await c.send('a@sender.test', ['b@example.test'], message(`share${i}`));
        c.close();
        return r?.code;
      }),
    );
    expect(codes).toEqual([250, 250, 250, 250]);
    expect(f.mocks[0].peakSessions).toBe(1);
  });
});

describe('a reply nobody asked for', () => {
  it('is not taken as the answer to the next command: the pooled connection is dropped', async () => {
    // a reply after the one to the final dot arrives when no command waits for one
    const backend = await scriptedBackend(
      smtpScript((v, line) => {
        if (v === '.') return '250 2.0.0 queued\r\n250 2.0.0 stray reply';
        if (v === 'RCPT' && line.includes('nobody')) return '550 5.1.1 no such user';
        return undefined;
      }),
    );
    f.cleanup.push(backend.close);
    f.proxy = await proxyFor([asBackend<MockBackend>('stray', backend.address)], { backends: { healthCheck: { enabled: false } } });
    const c = await session(addr(90, 0));
    expect((await transaction(c, ['b@example.test'], 's1')).at(-1)).toMatch(/^250 2\.0\.0 queued/);
    expect(await until(() => f.proxy!.state().backends[0].open === 0)).toBe(true);
    expect(await transaction(c, ['nobody@example.test'], 's2')).toEqual(['250 2.1.0 Ok', '550 5.1.1 no such user']);
  });
});
