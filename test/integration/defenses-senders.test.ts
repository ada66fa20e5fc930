// Sender authentication on real sockets, with mailauth asking the simulator's mock
// DNS: SPF at MAIL FROM, DMARC after the dot (p=reject refused, p=quarantine tagged),
// an Authentication-Results header for our host name, forged verdict headers dropped,
// and a DKIM-signed message that still verifies at the backend.
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import mailauth from 'mailauth';
import { proxyFixture } from '../helpers/fixture.ts';
import { backends, proxyFor } from '../helpers/proxy.ts';
import { addr, refusals } from '../helpers/defenses.ts';
import { MockDns } from '../../simulator/mock-dns.ts';
import { Dns } from '../../proxy/dns.ts';
import { proxyConfigSchema } from '../../proxy/config/schema.ts';

const f = proxyFixture();
let dns: MockDns | undefined;
afterEach(async () => {
  await dns?.stop();
  dns = undefined;
});

async function lab(): Promise<MockDns> {
  dns = await new MockDns([
    { name: 'bank.test', type: 'TXT', data: 'v=spf1 ip4:10.9.9.9 -all' },
    { name: '_dmarc.bank.test', type: 'TXT', data: 'v=DMARC1; p=reject' },
    { name: 'shop.test', type: 'TXT', data: 'v=spf1 ip4:10.9.9.9 -all' },
    { name: '_dmarc.shop.test', type: 'TXT', data: 'v=DMARC1; p=quarantine' },
    { name: 'office.test', type: 'TXT', data: 'v=spf1 ip4:127.0.0.0/8 -all' },
    { name: '_dmarc.office.test', type: 'TXT', data: 'v=DMARC1; p=reject' },
  ]).start();
  return dns;
}

const SENDERS = { spf: 'reject', dmarc: 'enforce' };

function mail(from: string, id: string, extra = ''): string {
  return `From: <${from}>\r\nTo: <b@example.test>\r\nSubject: ${id}\r\nDate: ${new Date().toUTCString()}\r\nMessage-ID: <${id}@x.test>\r\nX-Attitude-Id: ${id}\r\n${extra}\r\nHello\r\n`;
}

async function proxyWithLab(senders = SENDERS) {
  await lab();
  f.mocks = await backends(1);
  f.proxy = await proxyFor(f.mocks, { hostname: 'mx.attitude.test', dns: { servers: [dns!.address], timeout: '1s' }, senders });
}

describe('SPF', () => {
  it('refuses a sender whose domain says this client may not send for it with 550 5.7.23 at MAIL FROM', async () => {
    await proxyWithLab();
    const { c } = await f.open(addr(130, 1));
    await c.cmd('EHLO spoofer.test');
    const r = await c.cmd('MAIL FROM:<ceo@bank.test>');
    expect(r?.code).toBe(550);
    expect(r?.text).toMatch(/^5\.7\.23 SPF validation failed for the sender \(spf=fail/);
    expect(await refusals(f.proxy!, 'spf-fail', { stage: 'mail', code: '550' })).toBe(1);
  });

  it('passes a sender its domain allows and says so in Authentication-Results on top of the message', async () => {
    await proxyWithLab();
    const { c } = await f.open(addr(130, 2));
    expect((await c.send('boss@office.test', ['b@example.test'], mail('boss@office.test', 'spf-pass')))?.code).toBe(250);
    const raw = f.mocks[0].received[0].raw.toString();
    expect(raw).toMatch(/^Received: [^]*?Authentication-Results: mx\.attitude\.test;\r\n\tspf=pass [^]*?smtp\.mailfrom=boss@office\.test[^]*?dmarc=pass/);
  });
});

describe('DMARC', () => {
  it('refuses with 550 5.7.1 after the dot a message whose From domain says p=reject and does not align', async () => {
    await proxyWithLab();
    const { c } = await f.open(addr(131, 1));
    // the envelope is the spoofer's own domain (no SPF record), the From header the bank's
    const r = await c.send('bounce@cheap-mailer.test', ['b@example.test'], mail('ceo@bank.test', 'ceo-fraud'));
    expect(r?.code).toBe(550);
    expect(r?.text).toMatch(/^5\.7\.1 message refused by its sender domain's DMARC policy \(bank\.test p=reject\)/);
    expect(f.mocks[0].received).toHaveLength(0);
    expect(await refusals(f.proxy!, 'dmarc-reject', { stage: 'data', code: '550' })).toBe(1);
  });

  it('delivers a p=quarantine failure tagged, and only tags a p=reject failure with dmarc: tag', async () => {
    await proxyWithLab({ spf: 'tag', dmarc: 'enforce' });
    const { c } = await f.open(addr(131, 2));
    expect((await c.send('bounce@cheap-mailer.test', ['b@example.test'], mail('sales@shop.test', 'quarantined')))?.code).toBe(250);
    const raw = f.mocks[0].received[0].raw.toString();
    expect(raw).toMatch(/dmarc=fail[^]*?header\.from=shop\.test/);
    expect(raw).toMatch(/^X-Attitude-DMARC: quarantine\r$/m);
    await f.proxy!.close();
    f.proxy = await proxyFor(f.mocks, { dns: { servers: [dns!.address], timeout: '1s' }, senders: { spf: 'tag', dmarc: 'tag' } });
    const d = (await f.open(addr(131, 3))).c;
    expect((await d.send('bounce@cheap-mailer.test', ['b@example.test'], mail('ceo@bank.test', 'only-tagged')))?.code).toBe(250);
  });
});

describe('what reaches the backend', () => {
  it('drops verdict headers a sender forged for our host name, keeps those of other hosts', async () => {
    await proxyWithLab({ spf: 'tag', dmarc: 'off' });
    const forged = 'Authentication-Results: mx.attitude.test;\r\n\tspf=pass smtp.mailfrom=bank.test\r\nX-Spam-Score: -100\r\nAuthentication-Results: relay.elsewhere.test; spf=pass\r\n';
    const { c } = await f.open(addr(132, 1));
    expect((await c.send('boss@office.test', ['b@example.test'], mail('boss@office.test', 'forged', forged)))?.code).toBe(250);
    const raw = f.mocks[0].received[0].raw.toString();
    expect(raw).not.toContain('smtp.mailfrom=bank.test');
    expect(raw).not.toContain('X-Spam-Score: -100');
    expect(raw).toContain('Authentication-Results: relay.elsewhere.test; spf=pass');
    // ours is there once, on top
    expect(raw.match(/Authentication-Results: mx\.attitude\.test;/g)).toHaveLength(1);
  });

  it('keeps a DKIM signature valid: the message verifies at the backend as it did at the sender', async () => {
    await lab();
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const spki = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    dns!.add({ name: 'sel._domainkey.office.test', type: 'TXT', data: `v=DKIM1; k=rsa; p=${spki}` });
    f.mocks = await backends(1);
    f.proxy = await proxyFor(f.mocks, { dns: { servers: [dns!.address], timeout: '1s' }, senders: SENDERS });
    const body = mail('boss@office.test', 'signed') + 'A line with trailing spaces   \r\n\r\n.a line that starts with a dot\r\n';
    const key = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const { signatures } = await mailauth.dkimSign(body, { canonicalization: 'simple/simple', signatureData: [{ signingDomain: 'office.test', selector: 'sel', privateKey: key }] } as never);
    expect(signatures).toMatch(/^DKIM-Signature: /);
    const { c } = await f.open(addr(132, 2));
    // envelope from another domain: only the aligned DKIM signature makes DMARC pass
    expect((await c.send('bounce@cheap-mailer.test', ['b@example.test'], signatures + body))?.code).toBe(250);
    const raw = f.mocks[0].received[0].raw;
    expect(raw.toString()).toMatch(/dkim=pass[^]*?dmarc=pass/);
    const resolver = new Dns(proxyConfigSchema.parse({ dns: { servers: [dns!.address], timeout: '1s' } })).resolve;
    const verified = await mailauth.dkimVerify(raw, { resolver: resolver as never });
    expect(verified.results.map((r) => r.status.result)).toEqual(['pass']);
  });
});
