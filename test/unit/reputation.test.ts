// DNS reputation without sockets: list names, weights, answers, failures, the cache.
import { describe, expect, it } from 'vitest';
import { proxyConfigSchema } from '../../proxy/config/schema.ts';
import type { Dns } from '../../proxy/dns.ts';
import { ProxyEmitter } from '../../proxy/events.ts';
import { listName, Reputation } from '../../proxy/reputation.ts';

describe('listName', () => {
  it('reverses the octets of IPv4 and the nibbles of IPv6 in front of the zone', () => {
    expect(listName('192.0.2.99', 'zen.example')).toBe('99.2.0.192.zen.example');
    expect(listName('::ffff:192.0.2.99', 'zen.example')).toBe('99.2.0.192.zen.example');
    expect(listName('2001:db8::1', 'bl.example')).toBe('1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.example');
  });
});

describe('Reputation', () => {
  function setup(answers: Record<string, string[] | 'none' | 'failed'>) {
    const t = { now: 0 };
    const asked: string[] = [];
    const dns = { addresses: async (name: string) => (asked.push(name), answers[name] ?? 'none') } as unknown as Dns;
    const config = proxyConfigSchema.parse({
      reputation: { dnsbl: [{ zone: 'a.test', weight: 2 }, { zone: 'b.test', weight: 2, answers: ['127.0.0.4'] }], dnswl: [{ zone: 'w.test', weight: -3 }], threshold: 3, cache: '1m' },
    });
    const events = new ProxyEmitter();
    const results: string[] = [];
    events.on('dns-list', (e) => results.push(`${e.zone}:${e.result}`));
    return { t, asked, results, rep: new Reputation(() => config, dns, events, () => t.now) };
  }

  it('adds the weights of the zones that list the client; a zone with answers counts only those', async () => {
    const { rep, results } = setup({ '1.2.0.192.a.test': ['127.0.0.2'], '1.2.0.192.b.test': ['127.0.0.2'] });
    const v = await rep.judge('192.0.2.1');
    expect(v).toEqual({ score: 2, listedBy: ['a.test'], failed: [] });
    expect(rep.refuses(v)).toBe(false);
    expect(results).toEqual(['a.test:listed', 'b.test:clean', 'w.test:clean']);
  });

  it('refuses at the threshold; an allowlist listing pulls the score down', async () => {
    const { rep } = setup({ '2.2.0.192.a.test': ['127.0.0.2'], '2.2.0.192.b.test': ['127.0.0.4'], '3.2.0.192.a.test': ['127.0.0.2'], '3.2.0.192.b.test': ['127.0.0.4'], '3.2.0.192.w.test': ['127.0.0.2'] });
    const bad = await rep.judge('192.0.2.2');
    expect(bad.score).toBe(4);
    expect(rep.refuses(bad)).toBe(true);
    expect(rep.describe(bad)).toBe('listed by a.test, b.test: score 4 >= 3');
    expect(rep.refuses(await rep.judge('192.0.2.3'))).toBe(false);
  });

  it('takes a failed lookup for "not listed" and names the zone', async () => {
    const { rep, results } = setup({ '4.2.0.192.a.test': 'failed' });
    expect(await rep.judge('192.0.2.4')).toEqual({ score: 0, listedBy: [], failed: ['a.test'] });
    expect(results[0]).toBe('a.test:failed');
  });

  it('keeps a verdict for `cache`, then asks again', async () => {
    const { rep, asked, t } = setup({});
    await rep.judge('192.0.2.5');
    await rep.judge('192.0.2.5');
    expect(asked).toHaveLength(3);
    t.now = 61_000;
    await rep.judge('192.0.2.5');
    expect(asked).toHaveLength(6);
  });
});
