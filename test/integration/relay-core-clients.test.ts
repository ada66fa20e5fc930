// What the proxy tells and forwards about its clients (issue: relay core, defects 9,
// 10, 12 and 14): AUTH only where a password cannot leak, the authenticated user
// passed on by XCLIENT, failed logins counted, a renewed certificate used without a
// restart, exactly the address that was judged forwarded, and no relaying by default.
import { describe, expect, it } from 'vitest';
import { proxyFixture } from '../helpers/fixture.ts';
import { RawClient } from '../helpers/raw-smtp.ts';
import { backends, looseConfig, message, proxyFor } from '../helpers/proxy.ts';
import { addr, refusals } from '../helpers/defenses.ts';
import { selfSigned, startTls } from '../helpers/tls.ts';
import { Proxy } from '../../proxy/proxy.ts';
import { parseProxyConfig } from '../../proxy/config/load.ts';
import { MockDns, reverseName } from '../../simulator/mock-dns.ts';

const f = proxyFixture();

/** A greeted client. */
async function open(local: string): Promise<RawClient> {
  const { c, banner } = await f.open(local);
  expect(banner?.code).toBe(220);
  return c;
}

const plain = (user: string, pass: string) => Buffer.from(`\0${user}\0${pass}`).toString('base64');
const AUTH = { domains: ['example.test'], clients: [] as string[], auth: { users: { alice: 's3cret' } } };

describe('AUTH', () => {
  it('is not offered on a plaintext EHLO when STARTTLS is there to protect the password; it is after STARTTLS', async () => {
    f.mocks = await backends(1);
    f.proxy = await proxyFor(f.mocks, { tls: selfSigned(), relay: AUTH });
    const c = await open(addr(91, 0));
    const before = await c.cmd('EHLO client.test');
    expect(before?.text).toContain('STARTTLS');
    expect(before?.text).not.toMatch(/AUTH/);
    const { tls } = await startTls(c);
    f.clients.push(tls);
    const after = await tls.cmd('EHLO client.test');
    expect(after?.text).toMatch(/AUTH PLAIN LOGIN/);
    expect(after?.text).not.toContain('STARTTLS');
    expect((await tls.cmd(`AUTH PLAIN ${plain('alice', 's3cret')}`))?.code).toBe(235);
  });

  it('passes the authenticated user on with XCLIENT LOGIN=, so the backend lets it relay', async () => {
    f.mocks = await backends(1);
    f.proxy = await proxyFor(f.mocks, { relay: { ...AUTH, auth: { ...AUTH.auth, allowPlaintext: true } } }, [{ xclient: true }]);
    const c = await open(addr(91, 1));
    await c.cmd('EHLO client.test');
    expect((await c.cmd(`AUTH PLAIN ${plain('alice', 's3cret')}`))?.code).toBe(235);
    expect((await c.send('alice@example.test', ['friend@other.test'], message('login'), 'laptop.test'))?.code).toBe(250);
    expect(f.mocks[0].received[0].xclient).toMatchObject({ ADDR: addr(91, 1), LOGIN: 'alice', HELO: 'laptop.test' });
    // an anonymous session of the same client is not taken for alice's
    const d = await open(addr(91, 1));
    expect((await d.send('x@sender.test', ['b@example.test'], message('anon'), 'laptop.test'))?.code).toBe(250);
    expect(f.mocks[0].received[1].xclient.LOGIN).toBeUndefined();
  });

  it('answers a wrong password with 535 5.7.8 from the reply table and counts it as a refusal', async () => {
    f.mocks = await backends(1);
    f.proxy = await proxyFor(f.mocks, { relay: { ...AUTH, auth: { ...AUTH.auth, allowPlaintext: true } } });
    const c = await open(addr(91, 2));
    await c.cmd('EHLO client.test');
    const r = await c.cmd(`AUTH PLAIN ${plain('alice', 'guess')}`);
    expect(r).toEqual({ code: 535, text: '5.7.8 authentication credentials invalid' });
    expect(await refusals(f.proxy, 'auth-failed', { stage: 'auth', code: '535' })).toBe(1);
  });

  it('is offered once relay.auth is turned on by a reload', async () => {
    f.mocks = await backends(1);
    f.proxy = await proxyFor(f.mocks, { relay: { domains: ['example.test'], clients: [] } });
    const c = await open(addr(91, 3));
    expect((await c.cmd('EHLO client.test'))?.text).not.toMatch(/AUTH/);
    f.proxy.reload(looseConfig(f.mocks, { relay: { ...AUTH, auth: { ...AUTH.auth, allowPlaintext: true } } }));
    const d = await open(addr(91, 4));
    expect((await d.cmd('EHLO client.test'))?.text).toMatch(/AUTH PLAIN LOGIN/);
    expect((await d.cmd(`AUTH PLAIN ${plain('alice', 's3cret')}`))?.code).toBe(235);
  });
});

describe('reload', () => {
  it('uses a renewed certificate for new sessions without a restart, and says which keys need one', async () => {
    f.mocks = await backends(1);
    const first = selfSigned('first.attitude.test');
    const renewed = selfSigned('renewed.attitude.test');
    const config = parseProxyConfig({ listen: '127.0.0.1:0', tls: first, backends: { servers: [{ name: 'mx1', address: f.mocks[0].address }] } });
    f.proxy = await Proxy.start(config, { processMetrics: false });
    const warnings: string[] = [];
    f.proxy.events.on('warning', (w) => warnings.push(w.message));
    const a = await open(addr(92, 0));
    await a.cmd('EHLO client.test');
    expect((await startTls(a)).peerCn).toBe('first.attitude.test');
    f.proxy.reload(parseProxyConfig({ listen: '127.0.0.1:2', tls: renewed, backends: { servers: [{ name: 'mx1', address: f.mocks[0].address }] } }));
    const b = await open(addr(92, 1));
    await b.cmd('EHLO client.test');
    expect((await startTls(b)).peerCn).toBe('renewed.attitude.test');
    expect(warnings.join('\n')).toMatch(/listen .*needs a restart/);
  });
});

describe('the address forwarded is the address judged', () => {
  it('strips source routes and sends domains as their normalized ASCII form', async () => {
    f.mocks = await backends(1);
    f.proxy = await proxyFor(f.mocks, { relay: { domains: ['example.test'], clients: [] } });
    const c = await open(addr(93, 0));
    await c.cmd('EHLO client.test');
    expect((await c.cmd('MAIL FROM:<@relay.test:alice@Sender.TEST>'))?.code).toBe(250);
    for (const to of ['<@[IPv6:::1]:bob@example.test>', '<carol@ｅｘａｍｐｌｅ.test>', '<dave@exam\u00adple.test>', '<erin@EXAMPLE.test.>']) {
      expect((await c.cmd(`RCPT TO:${to}`))?.code, to).toBe(250);
    }
    expect((await c.cmd('DATA'))?.code).toBe(354);
    expect((await c.cmd(message('norm') + '.'))?.code).toBe(250);
    expect(f.mocks[0].received[0].from).toBe('alice@sender.test');
    expect(f.mocks[0].received[0].to).toEqual(['bob@example.test', 'carol@example.test', 'dave@example.test', 'erin@example.test']);
  });

  it('refuses what cannot be forwarded faithfully: comments, and non-ASCII local parts without SMTPUTF8', async () => {
    f.mocks = await backends(1);
    f.proxy = await proxyFor(f.mocks, { relay: { domains: ['example.test'], clients: [] } });
    const c = await open(addr(93, 1));
    await c.cmd('EHLO client.test');
    expect((await c.cmd('MAIL FROM:<a@sender.test>'))?.code).toBe(250);
    const comment = await c.cmd('RCPT TO:<(c)bob@example.test>');
    expect(comment?.code).toBe(553);
    expect(comment?.text).toMatch(/^5\.1\.3 /);
    const utf8 = await c.cmd('RCPT TO:<jörg@example.test>');
    expect(utf8?.code).toBe(553);
    expect(utf8?.text).toMatch(/^5\.6\.7 /);
    await c.cmd('RSET');
    expect((await c.cmd('MAIL FROM:<a@sender.test> SMTPUTF8'))?.code).toBe(250);
    expect((await c.cmd('RCPT TO:<jörg@example.test>'))?.code).toBe(250);
    expect((await c.cmd('DATA'))?.code).toBe(354);
    expect((await c.cmd(message('utf8') + '.'))?.code).toBe(250);
    expect(f.mocks[0].received.map((m) => m.to)).toEqual([['jörg@example.test']]);
  });
});

describe('secure by default', () => {
  it('a config with only backends.servers relays for nobody, local clients included', async () => {
    f.mocks = await backends(1);
    const config = parseProxyConfig({ listen: '127.0.0.1:0', relay: { domains: ['example.test'] }, backends: { servers: [{ name: 'mx1', address: f.mocks[0].address }] } });
    expect(config.relay.clients).toEqual([]);
    f.proxy = await Proxy.start(config, { processMetrics: false });
    const c = await open('127.0.0.1');
    await c.cmd('EHLO client.test');
    await c.cmd('MAIL FROM:<a@sender.test>');
    expect((await c.cmd('RCPT TO:<relaytest@nmap.scanme.org>'))?.code).toBe(554);
    expect((await c.cmd('RCPT TO:<b@example.test>'))?.code).toBe(250);
  });
});

describe("the client's verified name", () => {
  it('goes to an XCLIENT backend as NAME= when connections.reverseLookup finds one (forward-confirmed), [UNAVAILABLE] otherwise', async () => {
    const dns = await new MockDns().start();
    try {
      dns.addHost('laptop.client.test', addr(94, 1));
      // a PTR whose name does not lead back to the address is no verified name
      dns.add({ name: reverseName(addr(94, 2)), type: 'PTR', data: 'forged.client.test' });
      f.mocks = await backends(1);
      f.proxy = await proxyFor(f.mocks, { connections: { perClient: 100, rate: 'off', reverseLookup: true }, dns: { servers: [dns.address], timeout: '1s' } }, [{ xclient: true }]);
      for (const i of [1, 2, 3]) {
        const c = await open(addr(94, i));
        expect((await c.send('a@sender.test', ['b@example.test'], message(`name${i}`)))?.code).toBe(250);
      }
      // smtp-server (the mock) records NAME=[UNAVAILABLE] as ''
      expect(f.mocks[0].received.map((m) => [m.id, m.xclient.NAME])).toEqual([
        ['name1', 'laptop.client.test'],
        ['name2', ''],
        ['name3', ''],
      ]);
      expect(dns.queries.PTR).toBe(3);
    } finally {
      await dns.stop();
    }
  });
});
