// Defense under pressure on real sockets: a command line that trickles in past its
// deadline, stress mode (shorter timeouts, the idlest session shed at the cap so a new
// client gets in), the reserve of connections for clients that delivered mail, and
// the per-network cap.
import { describe, expect, it } from 'vitest';
import { proxyFixture } from '../helpers/fixture.ts';
import { backends, message, proxyFor } from '../helpers/proxy.ts';
import { addr, adminGet, metricValue, refusals, sleep, until } from '../helpers/defenses.ts';
import type { RawClient } from '../helpers/raw-smtp.ts';

const f = proxyFixture();

/** Writes `text` one byte every `everyMs` (a slowloris), until it is written or the connection closes. */
async function drip(c: RawClient, text: string, everyMs: number): Promise<void> {
  for (const ch of text) {
    if (c.closed) return;
    c.write(ch);
    await sleep(everyMs);
  }
}

describe('the command deadline', () => {
  it('ends a session whose command line trickles in slower than its deadline, though each byte resets the idle timer', async () => {
    f.mocks = await backends(1);
    f.proxy = await proxyFor(f.mocks, { connections: { idleTimeout: '10s', commandDeadline: '600ms', rate: 'off', perClient: 10 } });
    const { c, banner } = await f.open(addr(110, 0));
    expect(banner?.code).toBe(220);
    void drip(c, 'EHLO slow.loris.test\r\n', 100);
    expect(await c.read(3000)).toEqual({ code: 421, text: '4.4.2 command line not complete within its deadline, closing connection (limit 600ms)' });
    expect(await c.waitClosed()).toBe(true);
    expect(await refusals(f.proxy, 'command-deadline', { stage: 'session', code: '421' })).toBe(1);
    // a client that sends its lines at once is never near it
    const ok = (await f.open(addr(110, 1))).c;
    expect((await ok.send('a@sender.test', ['b@example.test'], message('quick')))?.code).toBe(250);
  });
});

describe('stress mode', () => {
  it('at the cap sheds the idlest session so a new client gets in, shortens the timeouts, and ends when the load falls', async () => {
    f.mocks = await backends(1);
    f.proxy = await proxyFor(f.mocks, {
      connections: { max: 10, perClient: 10, rate: 'off', reserve: { share: 0 }, idleTimeout: '1m', stress: { threshold: 0.5, release: 0.3, idleTimeout: '20s', commandDeadline: '20s' } },
    });
    // ten bots take every place and drip (each byte is activity, no line ever ends)
    const bots: RawClient[] = [];
    for (let i = 0; i < 10; i++) {
      const { c, banner } = await f.open(addr(111, i));
      expect(banner?.code).toBe(220);
      bots.push(c);
      void drip(c, 'E'.repeat(400), 300);
    }
    expect(f.proxy.state().stress.active).toBe(true);
    await sleep(1200);
    // a new client: the longest-idle bot goes, the office gets in and delivers
    const office = await f.open(addr(112, 0));
    expect(office.banner?.code).toBe(220);
    expect((await office.c.send('office@sender.test', ['b@example.test'], message('under-stress')))?.code).toBe(250);
    const shed = bots.filter((b) => b.closed);
    expect(shed).toHaveLength(1);
    expect(await refusals(f.proxy, 'shed-under-stress', { stage: 'session', code: '421' })).toBe(1);
    expect(f.proxy.state().stress).toMatchObject({ active: true, shed: 1 });
    const { body } = await adminGet(f.proxy, '/metrics');
    expect(metricValue(body, 'attitude_stress_active')).toBe(1);
    // the load falls below release x max: stress ends
    for (const b of bots) b.close();
    office.c.close();
    expect(await until(() => !f.proxy!.state().stress.active)).toBe(true);
    expect(metricValue((await adminGet(f.proxy, '/metrics')).body, 'attitude_stress_changes_total', { state: 'off' })).toBe(1);
  });

  it('cuts an idle session after stress.idleTimeout instead of the long idleTimeout', async () => {
    f.mocks = await backends(1);
    f.proxy = await proxyFor(f.mocks, {
      connections: { max: 4, perClient: 10, rate: 'off', reserve: { share: 0 }, idleTimeout: '1m', stress: { threshold: 0.5, release: 0.25, idleTimeout: '400ms', commandDeadline: '1m' } },
    });
    const a = await f.open(addr(113, 0));
    const b = await f.open(addr(113, 1));
    expect(f.proxy.state().stress.active).toBe(true);
    expect(await a.c.read(3000)).toEqual({ code: 421, text: '4.4.2 idle timeout, closing connection' });
    expect(await b.c.read(3000)).toMatchObject({ code: 421 });
  });
});

describe('the reserve for known-good clients', () => {
  it('keeps the last share of connections.max for a client that delivered mail; strangers are refused before it', async () => {
    f.mocks = await backends(1);
    f.proxy = await proxyFor(f.mocks, { connections: { max: 10, perClient: 10, rate: 'off', reserve: { share: 0.3 }, stress: { threshold: 1, release: 0.9 } } });
    const office = addr(114, 0);
    const first = await f.open(office);
    expect((await first.c.send('office@sender.test', ['b@example.test'], message('known')))?.code).toBe(250);
    // strangers fill what is theirs: 7 of 10, the office's own connection counted
    for (let i = 0; i < 6; i++) expect((await f.open(addr(115, i))).banner?.code).toBe(220);
    const stranger = await f.open(addr(115, 9));
    expect(stranger.banner?.code).toBe(421);
    expect(stranger.banner?.text).toMatch(/^4\.7\.0 too many connections, try again later \(limit 7 of 10, the rest kept for known senders\)/);
    // the office still gets in
    for (let i = 0; i < 3; i++) expect((await f.open(office)).banner?.code).toBe(220);
    expect((await f.open(office)).banner?.code).toBe(421);
  });
});

describe('the per-network cap', () => {
  it('refuses the connection past perNetwork from one /24; another /24 is another network', async () => {
    f.mocks = await backends(1);
    f.proxy = await proxyFor(f.mocks, { connections: { perClient: 10, perNetwork: 3, rate: 'off' } });
    for (let i = 1; i <= 3; i++) expect((await f.open(`127.116.5.${i}`)).banner?.code).toBe(220);
    const fourth = await f.open('127.116.5.99');
    expect(fourth.banner).toEqual({ code: 421, text: '4.7.0 too many connections from your network (limit 3)' });
    expect((await f.open('127.116.6.1')).banner?.code).toBe(220);
    expect(await refusals(f.proxy, 'connections-per-network', { stage: 'connect', code: '421' })).toBe(1);
  });
});
