// Relay control through the real proxy: served domains (case, IDNA both ways), other
// domains refused, address tricks refused even for trusted clients, source routes
// judged by the final address, a fresh judgement per transaction, relay.clients
// networks, authenticated relaying (AUTH PLAIN/LOGIN), and the address list of
// nmap's smtp-open-relay script: none accepted.
import { afterEach, describe, expect, it } from 'vitest';
import { RawClient } from '../helpers/raw-smtp.ts';
import { backends, closeAll, message, proxyFor } from '../helpers/proxy.ts';
import { addr, greeted, refusals } from '../helpers/defenses.ts';
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

async function open(local: string) {
  const g = await greeted(proxy!.address.port, local);
  clients.push(g.c);
  expect(g.banner?.code).toBe(220);
  return g.c;
}

/** A session after EHLO and MAIL FROM. */
async function mailFrom(local: string, from = 'a@sender.test', params = '') {
  const c = await open(local);
  expect((await c.cmd('EHLO client.test'))?.code).toBe(250);
  expect((await c.cmd(`MAIL FROM:<${from}>${params}`))?.code).toBe(250);
  return c;
}

const rcpt = async (c: RawClient, to: string) => c.cmd(`RCPT TO:<${to}>`);
const plain = (user: string, pass: string) => Buffer.from(`\0${user}\0${pass}`).toString('base64');
const b64 = (s: string) => Buffer.from(s).toString('base64');

const RELAY = { domains: ['example.test', 'bücher.example'], clients: [] as string[] };

describe('served domains', () => {
  it('accepts served domains whatever their case, and refuses others with 554 5.7.1', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { relay: RELAY });
    const c = await mailFrom(addr(70, 0));
    expect((await rcpt(c, 'u1@example.test'))?.code).toBe(250);
    expect((await rcpt(c, 'U2@EXAMPLE.TEST'))?.code).toBe(250);
    const other = await rcpt(c, 'u@other.test');
    expect(other?.code).toBe(554);
    expect(other?.text).toMatch(/^5\.7\.1 relay access denied \(other\.test is not served here\)/);
    // a subdomain is not the domain
    expect((await rcpt(c, 'u@mail.example.test'))?.code).toBe(554);
    // <Postmaster> without a domain must be accepted (RFC 5321 4.5.1)
    expect((await rcpt(c, 'Postmaster'))?.code).toBe(250);
    expect((await c.cmd('DATA'))?.code).toBe(354);
    expect((await c.cmd(message('served') + '.'))?.code).toBe(250);
    expect(mocks[0].received[0].to).toEqual(['u1@example.test', 'U2@example.test', 'Postmaster']);
    expect(await refusals(proxy, 'relay-denied', { stage: 'rcpt', code: '554' })).toBe(2);
  });

  it('compares IDN domains after IDNA to-ASCII, both ways (SMTPUTF8)', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { relay: RELAY });
    let c = await mailFrom(addr(70, 1));
    expect((await rcpt(c, 'leser@xn--bcher-kva.example'))?.code).toBe(250);
    expect((await rcpt(c, 'leser@XN--BCHER-KVA.EXAMPLE'))?.code).toBe(250);
    c.close();

    await closeAll(proxy);
    proxy = await proxyFor(mocks, { relay: { domains: ['xn--bcher-kva.example'], clients: [] } });
    c = await mailFrom(addr(70, 2), 'a@sender.test', ' SMTPUTF8');
    expect((await rcpt(c, 'leser@bücher.example'))?.code).toBe(250);
    expect((await rcpt(c, 'autor@BÜCHER.example'))?.code).toBe(250);
    expect((await rcpt(c, 'leser@bucher.example'))?.code).toBe(554);
    expect((await c.cmd('DATA'))?.code).toBe(354);
    expect((await c.cmd(message('idn') + '.'))?.code).toBe(250);
    // forwarded as judged, the domain in its normalized form (the mock, smtp-server, shows A-labels as U-labels)
    expect(mocks[0].received.map((m) => m.to)).toEqual([['leser@bücher.example', 'autor@bücher.example']]);
  });
});

describe('address tricks', () => {
  it.each([
    ['percent hack', 'u%other.test@example.test'],
    ['bang path', 'other.test!u@example.test'],
    ['IP literal', 'u@[127.0.0.1]'],
    ['IPv6 literal', 'u@[IPv6:::1]'],
    ['bare IP as a domain', 'u@127.0.0.1'],
  ])('refuses a %s with 550 5.7.1, even from a client allowed to relay', async (_what, address) => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { relay: { domains: ['example.test'], clients: ['127.71.0.0/16'] } });
    for (const from of [addr(71, 0), addr(72, 0)]) {
      const c = await mailFrom(from);
      const r = await rcpt(c, address);
      expect(r?.code, `${address} from ${from}`).toBe(550);
      expect(r?.text).toMatch(/^5\.7\.1 address form not accepted/);
    }
    expect(mocks[0].received).toHaveLength(0);
  });

  it('judges a source route by its final address', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { relay: { domains: ['example.test'], clients: [] } });
    const c = await mailFrom(addr(73, 0));
    const served = await rcpt(c, '@relay.other.test:u@example.test');
    const remote = await rcpt(c, '@example.test:u@other.test');
    const remote2 = await rcpt(c, '@example.test,@mx.example.test:u@other.test');
    expect(served?.code).toBe(250);
    expect(remote?.code).toBe(554);
    expect(remote?.text).toMatch(/other\.test is not served/);
    expect(remote2?.code).toBe(554);
  });
});

describe('relay decisions', () => {
  it('judges each transaction again: an accepted one does not open the session', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { relay: { domains: ['example.test'], clients: [] } });
    const c = await mailFrom(addr(74, 0));
    expect((await rcpt(c, 'u@example.test'))?.code).toBe(250);
    expect((await rcpt(c, 'u@other.test'))?.code).toBe(554);
    expect((await c.cmd('DATA'))?.code).toBe(354);
    expect((await c.cmd(message('tx1') + '.'))?.code).toBe(250);
    // second transaction in the same session
    expect((await c.cmd('MAIL FROM:<a@sender.test>'))?.code).toBe(250);
    expect((await rcpt(c, 'v@other.test'))?.code).toBe(554);
    expect((await c.cmd('RSET'))?.code).toBe(250);
    expect((await c.cmd('MAIL FROM:<a@sender.test>'))?.code).toBe(250);
    expect((await rcpt(c, 'w@other.test'))?.code).toBe(554);
    expect((await rcpt(c, 'w@example.test'))?.code).toBe(250);
    expect(mocks[0].received.map((m) => m.to)).toEqual([['u@example.test']]);
  });

  it('lets relay.clients networks relay to any domain, and nobody else', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { relay: { domains: ['example.test'], clients: ['127.75.0.0/16'] } });
    const inside = await mailFrom(addr(75, 3));
    expect((await rcpt(inside, 'u@anywhere.test'))?.code).toBe(250);
    expect((await inside.cmd('DATA'))?.code).toBe(354);
    expect((await inside.cmd(message('from-net') + '.'))?.code).toBe(250);
    const outside = await mailFrom(addr(76, 3));
    expect((await rcpt(outside, 'u@anywhere.test'))?.code).toBe(554);
    expect(mocks[0].received.map((m) => m.to)).toEqual([['u@anywhere.test']]);
  });
});

describe('authenticated relaying', () => {
  const AUTH = { domains: ['example.test'], clients: [], auth: { users: { alice: 's3cret' }, allowPlaintext: true } };

  it('lets a user authenticated with AUTH PLAIN relay anywhere; a wrong password gets 535', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { relay: AUTH });
    const c = await open(addr(77, 0));
    const ehlo = await c.cmd('EHLO client.test');
    expect(ehlo?.text).toMatch(/^AUTH .*\bPLAIN\b/m);
    expect(ehlo?.text).toMatch(/^AUTH .*\bLOGIN\b/m);
    // unauthenticated: refused
    expect((await c.cmd('MAIL FROM:<alice@sender.test>'))?.code).toBe(250);
    expect((await rcpt(c, 'friend@other.test'))?.code).toBe(554);
    expect((await c.cmd('RSET'))?.code).toBe(250);
    const bad = await c.cmd(`AUTH PLAIN ${plain('alice', 'wrong')}`);
    expect(bad?.code).toBe(535);
    expect((await c.cmd(`AUTH PLAIN ${plain('mallory', 's3cret')}`))?.code).toBe(535);
    expect((await c.cmd(`AUTH PLAIN ${plain('alice', 's3cret')}`))?.code).toBe(235);
    expect((await c.send('alice@sender.test', ['friend@other.test'], message('authed')))?.code).toBe(250);
    expect(mocks[0].received.map((m) => m.to)).toEqual([['friend@other.test']]);
    // a new session starts unauthenticated
    const d = await mailFrom(addr(77, 0));
    expect((await rcpt(d, 'friend@other.test'))?.code).toBe(554);
  });

  it('lets an unauthenticated sender for served domains keep its connection for many messages', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { relay: AUTH });
    const c = await open(addr(77, 4));
    for (let i = 0; i < 15; i++) expect((await c.send('mx@sender.test', ['b@example.test'], message(`unauth-${i}`)))?.code).toBe(250);
    expect(mocks[0].received).toHaveLength(15);
  });

  it('slows down and then cuts off password guessing (the error tarpit applies to 535)', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { relay: AUTH, connections: { errorSoftLimit: 2, errorHardLimit: 4, errorDelay: '200ms' } });
    const c = await open(addr(77, 5));
    await c.cmd('EHLO client.test');
    const codes: Array<number | undefined> = [];
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) codes.push((await c.cmd(`AUTH PLAIN ${plain('alice', `guess${i}`)}`))?.code);
    expect(codes).toEqual([535, 535, 535, 535, 421]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(350);
    expect(await c.waitClosed(3000)).toBe(true);
  });

  it('accepts AUTH LOGIN too', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { relay: AUTH });
    const c = await open(addr(77, 1));
    await c.cmd('EHLO client.test');
    expect((await c.cmd('AUTH LOGIN'))?.code).toBe(334);
    expect((await c.cmd(b64('alice')))?.code).toBe(334);
    expect((await c.cmd(b64('s3cret')))?.code).toBe(235);
    expect((await c.cmd('MAIL FROM:<alice@sender.test>'))?.code).toBe(250);
    expect((await rcpt(c, 'friend@other.test'))?.code).toBe(250);
  });

  it('refuses AUTH over plaintext without allowPlaintext', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { relay: { ...AUTH, auth: { users: { alice: 's3cret' } } } });
    const c = await open(addr(77, 2));
    await c.cmd('EHLO client.test');
    const r = await c.cmd(`AUTH PLAIN ${plain('alice', 's3cret')}`);
    expect(r?.code).toBe(538);
    expect(r?.text).toMatch(/^5\.7\.11 encryption required/);
    // with LOGIN the password is not even asked for
    expect((await c.cmd('AUTH LOGIN'))?.code).toBe(538);
    expect((await c.cmd('MAIL FROM:<alice@sender.test>'))?.code).toBe(250);
    expect((await rcpt(c, 'friend@other.test'))?.code).toBe(554);
  });

  it('does not advertise or accept AUTH when relay.auth is unset', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { relay: { domains: ['example.test'], clients: [] } });
    const c = await open(addr(77, 3));
    const ehlo = await c.cmd('EHLO client.test');
    expect(ehlo?.text).not.toMatch(/AUTH/);
    const r = await c.cmd(`AUTH PLAIN ${plain('alice', 's3cret')}`);
    expect(r?.code).toBeGreaterThanOrEqual(500);
    expect(r?.code).not.toBe(235);
  });
});

describe("nmap's smtp-open-relay", () => {
  // The MAIL FROM / RCPT TO pairs of smtp-open-relay.nse, with its default target domain,
  // the proxy's address as `ip`, and `srvname` (the name in the EHLO reply) set to a
  // served domain, the hardest case: then `relaytest%target@srvname` names a local domain.
  const domain = 'nmap.scanme.org';
  const srvname = 'example.test';
  const ip = '127.0.0.1';
  const tests: Array<[string, string]> = [
    ['MAIL FROM:<>', `RCPT TO:<relaytest@${domain}>`],
    [`MAIL FROM:<antispam@${domain}>`, `RCPT TO:<relaytest@${domain}>`],
    [`MAIL FROM:<antispam@${srvname}>`, `RCPT TO:<relaytest@${domain}>`],
    [`MAIL FROM:<antispam@[${ip}]>`, `RCPT TO:<relaytest@${domain}>`],
    [`MAIL FROM:<antispam@[${ip}]>`, `RCPT TO:<relaytest%${domain}@[${ip}]>`],
    [`MAIL FROM:<antispam@[${ip}]>`, `RCPT TO:<relaytest%${domain}@${srvname}>`],
    [`MAIL FROM:<antispam@[${ip}]>`, `RCPT TO:<"relaytest@${domain}">`],
    [`MAIL FROM:<antispam@[${ip}]>`, `RCPT TO:<"relaytest%${domain}">`],
    [`MAIL FROM:<antispam@[${ip}]>`, `RCPT TO:<relaytest@${domain}@[${ip}]>`],
    [`MAIL FROM:<antispam@[${ip}]>`, `RCPT TO:<"relaytest@${domain}"@[${ip}]>`],
    [`MAIL FROM:<antispam@[${ip}]>`, `RCPT TO:<relaytest@${domain}@${srvname}>`],
    [`MAIL FROM:<antispam@[${ip}]>`, `RCPT TO:<@[${ip}]:relaytest@${domain}>`],
    [`MAIL FROM:<antispam@[${ip}]>`, `RCPT TO:<@${srvname}:relaytest@${domain}>`],
    [`MAIL FROM:<antispam@[${ip}]>`, `RCPT TO:<${domain}!relaytest>`],
    [`MAIL FROM:<antispam@[${ip}]>`, `RCPT TO:<${domain}!relaytest@[${ip}]>`],
    [`MAIL FROM:<antispam@[${ip}]>`, `RCPT TO:<${domain}!relaytest@${srvname}>`],
    // the variants of test/unit/address.test.ts with the served domain on the outside
    ['MAIL FROM:<a@sender.test>', `RCPT TO:<"relaytest%${domain}"@${srvname}>`],
    ['MAIL FROM:<a@sender.test>', `RCPT TO:<"${domain}!relaytest"@${srvname}>`],
    ['MAIL FROM:<a@sender.test>', `RCPT TO:<"relaytest@${domain}"@${srvname}>`],
    ['MAIL FROM:<a@sender.test>', `RCPT TO:<@${srvname},@[${ip}]:relaytest@${domain}>`],
  ];

  it('accepts none of its addresses (one session, RSET between tests, as the script does)', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { hostname: srvname, relay: { domains: [srvname], clients: [] }, connections: { errorSoftLimit: 100, errorHardLimit: 100 } });
    const c = await open(addr(78, 0));
    const ehlo = await c.cmd(`EHLO ${domain}`);
    expect(ehlo?.text).toMatch(new RegExp(`^${srvname}`));
    const accepted: string[] = [];
    const answers: string[] = [];
    for (const [from, to] of tests) {
      expect((await c.cmd('RSET'))?.code).toBe(250);
      const mail = await c.cmd(from);
      if (mail?.code !== 250) {
        answers.push(`${from} -> ${mail?.code}`);
        continue;
      }
      const r = await c.cmd(to);
      answers.push(`${to} -> ${r?.code} ${r?.text}`);
      if (r?.code === 250) accepted.push(`${from} -> ${to}`);
    }
    expect(accepted).toEqual([]);
    expect(answers).toHaveLength(tests.length);
    // and the served address itself still works (the list was refused for the right reason)
    await c.cmd('RSET');
    expect((await c.send('a@sender.test', [`relaytest@${srvname}`], message('nmap-ok')))?.code).toBe(250);
    expect(mocks[0].received.map((m) => m.to)).toEqual([[`relaytest@${srvname}`]]);
  });
});
