// The relay core against a real Postfix, set up as the README tells a mail admin:
// behind the PROXY protocol (smtpd_upstream_proxy_protocol = haproxy) the proxy's own
// health checks must not mark it down; a Postfix that greylists (450 to RCPT) stays
// up and the other recipients of the transaction go through; a user who
// authenticated at the proxy relays through Postfix by XCLIENT LOGIN=.
import { describe, expect, it } from 'vitest';
import { parseProxyConfig } from '../../proxy/config/load.ts';
import { Proxy } from '../../proxy/proxy.ts';
import { RawClient } from '../helpers/raw-smtp.ts';
import { message } from '../helpers/proxy.ts';
import net from 'node:net';
import nodemailer from 'nodemailer';
import { drained, sleep, until } from '../helpers/defenses.ts';
import { selfSigned } from '../helpers/tls.ts';
import { MemoryStore } from '../../proxy/store/memory-store.ts';
import { postfixFixture } from '../helpers/postfix-fixture.ts';
import { canRunPostfix, postfixOrSkip, type PostfixOptions, type PostfixServer } from '../helpers/postfix-server.ts';
import { startSink, toolsMissing } from '../helpers/postfix-tools.ts';

const f = postfixFixture();

/** A private Postfix with `options`, relaying to smtp-sink. */
async function postfixWith(ctx: { skip(): never }, options: PostfixOptions): Promise<PostfixServer> {
  f.sink = await startSink();
  return postfixOrSkip(ctx, f.sink.address, options);
}

function proxyTo(server: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<Proxy> {
  return Proxy.start(
    parseProxyConfig({
      listen: '127.0.0.1:0',
      relay: { domains: ['example.test'], clients: [] },
      ...extra,
      backends: { healthCheck: { interval: '300ms', timeout: '250ms', rise: 1, fall: 1 }, servers: [{ name: 'postfix', ...server }] },
    }),
    { processMetrics: false },
  );
}

/** A session from `local`: EHLO, the `before` commands (their codes), then MAIL, the recipients and the message (`code text` each). */
async function transaction(port: number, local: string, rcpts: string[], id: string, before: string[] = []): Promise<string[]> {
  const c = await RawClient.connect(port, local);
  try {
    await c.read();
    await c.cmd('EHLO client.test');
    const out: string[] = [];
    for (const line of before) out.push(`${(await c.cmd(line))?.code}`);
    for (const r of await c.transaction('a@sender.test', rcpts, message(id))) out.push(`${r.code} ${r.text}`);
    await c.cmd('QUIT');
    return out;
  } finally {
    c.close();
  }
}

describe.skipIf(toolsMissing('smtp-sink', 'postfix') || !canRunPostfix())('the relay core in front of a real Postfix', () => {
  it.for(['v1', 'v2'] as const)('PROXY protocol %s: the health checks keep Postfix up, and Postfix sees the real client', async (version, ctx) => {
    f.postfix = await postfixWith(ctx, { smtpd: ['smtpd_upstream_proxy_protocol=haproxy'] });
    f.proxy = await proxyTo({ address: f.postfix.address, proxyProtocol: version });
    await sleep(2000); // several health checks
    expect(f.proxy.state().backends[0]).toMatchObject({ health: 'up', failures: 0 });
    const replies = await transaction(f.proxy.address.port, '127.0.3.4', ['b@example.test'], `pp-${version}`);
    // Postfix offers CHUNKING, so the message went as BDAT: Postfix's reply to BDAT LAST counts the bytes
    expect(replies.at(-1)).toMatch(/^250 2\.0\.0 Ok: \d+ bytes queued as/);
    expect(await until(() => f.postfix!.log().includes('client=unknown[127.0.3.4]'), 10_000)).toBe(true);
    const log = f.postfix.log();
    expect(log).toMatch(/ehlo=1 quit=1/);
    // the test helper's own probe of the port, before the proxy started, is the one allowed
    expect(log.match(/haproxy read/g)?.length ?? 0, log).toBeLessThanOrEqual(1);
  });

  it('Postfix greylists one recipient (450): passed on, Postfix stays up (fall 1), the others are delivered', async (ctx) => {
    f.postfix = await postfixWith(ctx, { mainCf: ['smtpd_recipient_restrictions = check_recipient_access inline:{ { grey@example.test = 450 4.2.0 greylisted, come back later } }, permit'] });
    f.proxy = await proxyTo({ address: f.postfix.address, xclient: true });
    for (let i = 0; i < 3; i++) {
      const replies = await transaction(f.proxy.address.port, `127.0.3.${10 + i}`, ['grey@example.test', 'ok@example.test'], `grey-${i}`);
      expect(replies[1]).toMatch(/^450 4\.2\.0 .*greylisted/);
      expect(replies[2]).toMatch(/^250 /);
      expect(replies.at(-1)).toMatch(/^250 2\.0\.0 Ok: (\d+ bytes )?queued as/);
    }
    expect(f.proxy.state().backends[0]).toMatchObject({ health: 'up', failures: 0 });
    expect(await until(() => f.sink!.dumps().length === 3, 10_000)).toBe(true);
    expect(f.sink!.dumps().every((d) => d.includes('X-Rcpt-Args: <ok@example.test>') && !d.includes('grey@'))).toBe(true);
  });

  it('sends a large message with dot lines in BDAT chunks: Postfix counts every byte and relays it intact', async (ctx) => {
    f.postfix = await postfixWith(ctx, {});
    f.proxy = await proxyTo({ address: f.postfix.address });
    const body = message('bdat-big') + ('z'.repeat(998) + '\r\n').repeat(300) + '.\r\n.dot\r\n..two\r\nend\r\n';
    const c = await RawClient.connect(f.proxy.address.port, '127.0.3.30');
    try {
      await c.read();
      const r = await c.send('a@sender.test', ['b@example.test'], body);
      // about 19 chunks of 16 KB; Postfix's reply to BDAT LAST counts what all of them carried
      const m = /^2\.0\.0 Ok: (\d+) bytes queued as/.exec(r?.text ?? '');
      expect(m, r?.text).not.toBeNull();
      expect(Number(m![1])).toBeGreaterThan(body.length);
      expect(Number(m![1])).toBeLessThan(body.length + 3000);
    } finally {
      c.close();
    }
    // Postfix dot-stuffs for its own next hop; smtp-sink's dump has the lines as they were sent
    // (smtp-sink writes its dump as the message comes: wait for the whole of it)
    const dumped = () => f.sink!.dumps()[0]?.replace(/\r\n/g, '\n') ?? '';
    await until(() => dumped().includes('\nend\n'), 10_000);
    expect(dumped()).toContain('\n.\n.dot\n..two\nend\n');
    expect(f.sink!.dumps()).toHaveLength(1);
  });

  it('comes back to zero on the defaults after STARTTLS senders, pipeliners that hang up mid-BDAT, a greylisted recipient and a flood', async (ctx) => {
    f.postfix = await postfixWith(ctx, { mainCf: ['smtpd_recipient_restrictions = check_recipient_access inline:{ { grey@example.test = 450 4.2.0 greylisted, come back later } }, permit'] });
    const store = new MemoryStore(Date.now);
    // the defaults, as a user's file would leave them: only the domain, a certificate and the backend
    f.proxy = await Proxy.start(parseProxyConfig({ listen: '127.0.0.1:0', tls: selfSigned(), relay: { domains: ['example.test'] }, backends: { servers: [{ name: 'postfix', address: f.postfix.address }] } }), {
      processMetrics: false,
      store,
    });
    const port = f.proxy.address.port;
    // plain senders, one after another, each upgrading to TLS
    for (let i = 1; i <= 4; i++) {
      const transport = nodemailer.createTransport({ host: '127.0.0.1', port, localAddress: `127.0.4.${i}`, requireTLS: true, tls: { rejectUnauthorized: false } });
      const info = await transport.sendMail({ from: `s${i}@sender.test`, to: 'b@example.test', subject: `tls ${i}`, text: 'over TLS' });
      transport.close();
      expect(info.response, `sender ${i}`).toMatch(/^250 2\.0\.0 Ok: \d+ bytes queued as/);
    }
    // a pipeliner with a greylisted recipient: the other one is delivered
    const grey = await RawClient.connect(port, '127.0.4.10');
    await grey.read();
    await grey.cmd('EHLO mta.sender.test');
    grey.write('MAIL FROM:<a@sender.test>\r\nRCPT TO:<grey@example.test>\r\nRCPT TO:<ok@example.test>\r\nDATA\r\n');
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await grey.read(5000))?.code ?? 0);
    expect(codes).toEqual([250, 450, 250, 354]);
    expect((await grey.cmd(message('grey-ok').replace(/\r\n$/, '') + '\r\n.'))?.code).toBe(250);
    grey.close();
    // pipeliners that hang up after 40 KB of their message: chunks went to Postfix, LAST never did
    for (let i = 0; i < 3; i++) {
      const c = await RawClient.connect(port, `127.0.4.${20 + i}`);
      await c.read();
      await c.cmd('EHLO mta.sender.test');
      c.write('MAIL FROM:<a@sender.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n');
      for (let k = 0; k < 3; k++) await c.read(5000);
      c.write(message(`gone-${i}`) + ('x'.repeat(998) + '\r\n').repeat(40));
      await sleep(200);
      c.close();
    }
    // a flood from one /24: the per-network cap refuses what is past it
    const flood = await Promise.all(
      Array.from({ length: 120 }, (_, i) => new Promise<net.Socket>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port, localAddress: `127.0.5.${1 + (i % 40)}` }, () => resolve(s));
        s.on('error', () => resolve(s));
      })),
    );
    await sleep(500);
    expect(f.proxy.state().connections.active, 'the per-network cap').toBeLessThanOrEqual(50);
    for (const s of flood) s.destroy();
    // every slot, session, transaction, held byte and backend connection given back
    expect(await until(() => drained(f.proxy!, store), 15_000), JSON.stringify(f.proxy.state())).toBe(true);
    // what Postfix queued reaches its next hop: the four TLS senders and the greylisted one's other recipient
    expect(await until(() => f.sink!.dumps().length === 5, 15_000), `${f.sink!.dumps().length} messages at the sink`).toBe(true);
    expect(f.sink!.dumps().some((d) => d.includes('gone-'))).toBe(false);
  });

  it('a user who authenticated at the proxy relays through Postfix by XCLIENT LOGIN=, an anonymous client does not', async (ctx) => {
    f.postfix = await postfixWith(ctx, {
      mainCf: ['smtpd_sasl_auth_enable = yes', 'smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination', 'mynetworks ='],
    });
    f.proxy = await proxyTo({ address: f.postfix.address, xclient: true }, { relay: { domains: ['example.test'], clients: [], auth: { users: { alice: 's3cret' }, allowPlaintext: true } } });
    const login = `AUTH PLAIN ${Buffer.from('\0alice\0s3cret').toString('base64')}`;
    const alice = await transaction(f.proxy.address.port, '127.0.3.20', ['friend@elsewhere.test'], 'login-1', [login]);
    expect(alice[0]).toBe('235');
    expect(alice.at(-1)).toMatch(/^250 2\.0\.0 Ok: (\d+ bytes )?queued as/);
    expect(await until(() => f.postfix!.log().includes('sasl_username=alice'), 10_000)).toBe(true);
    // the proxy itself refuses the anonymous relay attempt before Postfix is asked
    const anon = await transaction(f.proxy.address.port, '127.0.3.21', ['friend@elsewhere.test'], 'anon-1');
    expect(anon[1]).toMatch(/^554 5\.7\.1 relay access denied/);
  });
});
