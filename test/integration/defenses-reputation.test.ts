// DNS reputation on real sockets and a real resolver protocol (the simulator's mock
// DNS on loopback): a client listed at or over the threshold is refused with 554
// before the banner, an allowlist weighs against the blocklists, `action: tag` marks
// the mail instead, and a DNS server that does not answer never blocks mail.
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { proxyFixture } from '../helpers/fixture.ts';
import { backends, message, proxyFor } from '../helpers/proxy.ts';
import { addr, adminGet, metricValue, refusals } from '../helpers/defenses.ts';
import { MockDns } from '../../simulator/mock-dns.ts';
import { listName } from '../../proxy/reputation.ts';

const f = proxyFixture();
let dns: MockDns | undefined;
afterEach(async () => {
  await dns?.stop();
  dns = undefined;
});

/** A mock DNS where `listed` addresses are in `zone` with answer 127.0.0.2. */
async function dnsWith(zone: string, listed: string[], answer = '127.0.0.2'): Promise<MockDns> {
  dns = await new MockDns().start();
  for (const ip of listed) dns.add({ name: listName(ip, zone), type: 'A', data: answer });
  return dns;
}

const bot = addr(120, 1);
const office = addr(121, 1);

describe('DNS reputation', () => {
  it('refuses a client listed at or over the threshold with 554 5.7.1 before the banner; others get in', async () => {
    await dnsWith('bl.attitude.test', [bot]);
    f.mocks = await backends(1);
    f.proxy = await proxyFor(f.mocks, {
      dns: { servers: [dns!.address], timeout: '1s' },
      reputation: { dnsbl: [{ zone: 'bl.attitude.test', weight: 3 }], threshold: 3 },
    });
    const refused = await f.open(bot);
    expect(refused.banner).toEqual({ code: 554, text: '5.7.1 address refused by its DNS reputation (listed by bl.attitude.test: score 3 >= 3)' });
    expect(await refused.c.waitClosed()).toBe(true);
    const ok = await f.open(office);
    expect(ok.banner?.code).toBe(220);
    expect((await ok.c.send('a@sender.test', ['b@example.test'], message('clean')))?.code).toBe(250);
    expect(await refusals(f.proxy, 'dnsbl', { stage: 'connect', code: '554' })).toBe(1);
    const m = (await adminGet(f.proxy, '/metrics')).body;
    expect(metricValue(m, 'attitude_dns_list_lookups_total', { zone: 'bl.attitude.test', result: 'listed' })).toBe(1);
    expect(metricValue(m, 'attitude_dns_list_lookups_total', { zone: 'bl.attitude.test', result: 'clean' })).toBe(1);
  });

  it('adds the weights of every zone (an allowlist weighs against), and counts only the answers a zone is told to', async () => {
    dns = await new MockDns().start();
    const both = addr(122, 1);
    const wrongAnswer = addr(122, 2);
    dns.add({ name: listName(both, 'bl.attitude.test'), type: 'A', data: '127.0.0.2' });
    dns.add({ name: listName(both, 'wl.attitude.test'), type: 'A', data: '127.0.0.2' });
    dns.add({ name: listName(wrongAnswer, 'bl.attitude.test'), type: 'A', data: '127.0.0.10' });
    f.mocks = await backends(1);
    f.proxy = await proxyFor(f.mocks, {
      dns: { servers: [dns.address], timeout: '1s' },
      reputation: { dnsbl: [{ zone: 'bl.attitude.test', weight: 3, answers: ['127.0.0.2'] }], dnswl: [{ zone: 'wl.attitude.test', weight: -2 }], threshold: 3 },
    });
    expect((await f.open(both)).banner?.code).toBe(220);
    expect((await f.open(wrongAnswer)).banner?.code).toBe(220);
  });

  it('with action: tag lets a listed client in and marks its messages', async () => {
    await dnsWith('bl.attitude.test', [bot]);
    f.mocks = await backends(1);
    f.proxy = await proxyFor(f.mocks, { dns: { servers: [dns!.address], timeout: '1s' }, reputation: { dnsbl: [{ zone: 'bl.attitude.test', weight: 5 }], action: 'tag' } });
    const { c, banner } = await f.open(bot);
    expect(banner?.code).toBe(220);
    expect((await c.send('a@sender.test', ['b@example.test'], message('tagged')))?.code).toBe(250);
    expect(f.mocks[0].received[0].raw.toString()).toMatch(/^X-Attitude-Reputation: listed by bl\.attitude\.test: score 5 >= 3\r$/m);
  });

  it('never blocks mail when DNS does not answer: the client gets in after dns.timeout, the failure is counted', async () => {
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
    try {
      f.mocks = await backends(1);
      f.proxy = await proxyFor(f.mocks, { dns: { servers: [`127.0.0.1:${silent.address().port}`], timeout: '300ms' }, reputation: { dnsbl: [{ zone: 'bl.attitude.test', weight: 3 }] } });
      const t0 = Date.now();
      const { c, banner } = await f.open(bot);
      expect(banner?.code).toBe(220);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
      expect((await c.send('a@sender.test', ['b@example.test'], message('dns-down')))?.code).toBe(250);
      expect(metricValue((await adminGet(f.proxy, '/metrics')).body, 'attitude_dns_list_lookups_total', { result: 'failed' })).toBe(1);
    } finally {
      silent.close();
    }
  });
});
