// SPF and DMARC asked of a real DNS server: Debian's dnsmasq serving the domains'
// TXT records (--txt-record), the way a lab or a small site publishes them.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { proxyFixture } from '../helpers/fixture.ts';
import { backends, proxyFor } from '../helpers/proxy.ts';
import { addr, refusals } from '../helpers/defenses.ts';
import { freePort, toolsMissing } from '../helpers/postfix-tools.ts';
import { Dns } from '../../proxy/dns.ts';
import { proxyConfigSchema } from '../../proxy/config/schema.ts';

const f = proxyFixture();
let dnsmasq: ChildProcess | undefined;
afterEach(async () => {
  if (dnsmasq && dnsmasq.exitCode === null) {
    dnsmasq.kill('SIGTERM');
    await new Promise((r) => dnsmasq!.once('exit', r));
  }
  dnsmasq = undefined;
});

/** dnsmasq on a free loopback port answering only for these TXT records (no upstream, no hosts file, no pid file;
 * --local: other names under .test are NXDOMAIN, not REFUSED, which SPF and DMARC
 * would take for a temporary error).
 * No quotes around the text: they are the shell's, dnsmasq would serve them. */
async function startDnsmasq(records: Record<string, string>): Promise<string> {
  const port = await freePort();
  const txt = Object.entries(records).map(([name, text]) => `--txt-record=${name},${text}`);
  dnsmasq = spawn('dnsmasq', ['-k', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--pid-file=', '--local=/test/', '--bind-interfaces', '--listen-address=127.0.0.1', `--port=${port}`, ...txt], { stdio: 'ignore' });
  const server = `127.0.0.1:${port}`;
  const probe = new Dns(proxyConfigSchema.parse({ dns: { servers: [server], timeout: '200ms' } }));
  const first = Object.keys(records)[0];
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (Array.isArray(await probe.texts(first))) return server;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('dnsmasq did not answer');
}

function mail(from: string, id: string): string {
  return `From: <${from}>\r\nTo: <b@example.test>\r\nSubject: ${id}\r\nMessage-ID: <${id}@x.test>\r\nX-Attitude-Id: ${id}\r\n\r\nHello\r\n`;
}

describe.skipIf(toolsMissing('dnsmasq'))('sender authentication against dnsmasq', () => {
  it('refuses a forged envelope at MAIL, a forged From after the dot, and passes the domain that lists the client', async () => {
    const server = await startDnsmasq({
      'bank.test': 'v=spf1 ip4:192.0.2.0/24 -all',
      '_dmarc.bank.test': 'v=DMARC1; p=reject',
      'office.test': 'v=spf1 ip4:127.0.0.0/8 -all',
      '_dmarc.office.test': 'v=DMARC1; p=reject',
    });
    f.mocks = await backends(1);
    f.proxy = await proxyFor(f.mocks, { hostname: 'mx.attitude.test', dns: { servers: [server], timeout: '1s' }, senders: { spf: 'reject', dmarc: 'enforce' } });

    const forger = (await f.open(addr(140, 1))).c;
    await forger.cmd('EHLO spoofer.test');
    expect((await forger.cmd('MAIL FROM:<ceo@bank.test>'))?.code).toBe(550);

    const lookalike = (await f.open(addr(140, 2))).c;
    const r = await lookalike.send('bounce@lookalike.test', ['b@example.test'], mail('ceo@bank.test', 'lookalike'));
    expect(r?.code).toBe(550);
    expect(r?.text).toMatch(/^5\.7\.1 .*bank\.test p=reject/);

    const office = (await f.open(addr(140, 3))).c;
    expect((await office.send('boss@office.test', ['b@example.test'], mail('boss@office.test', 'office')))?.code).toBe(250);
    expect(f.mocks[0].received).toHaveLength(1);
    expect(f.mocks[0].received[0].raw.toString()).toMatch(/Authentication-Results: mx\.attitude\.test;[^]*?spf=pass[^]*?dmarc=pass/);
    expect(await refusals(f.proxy, 'spf-fail')).toBe(1);
    expect(await refusals(f.proxy, 'dmarc-reject')).toBe(1);
  });
});
