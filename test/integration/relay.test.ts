import { afterEach, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { RawClient } from '../helpers/raw-smtp.ts';
import { backends, closeAll, message, proxyFor } from '../helpers/proxy.ts';
import type { MockBackend } from '../../simulator/mock-backend.ts';
import type { Proxy } from '../../proxy/proxy.ts';
import { scriptedBackend, smtpScript } from '../helpers/scripted-backend.ts';
import { drained, until } from '../helpers/defenses.ts';

let mocks: MockBackend[] = [];
let proxy: Proxy | undefined;
afterEach(async () => {
  await closeAll(proxy, mocks);
  proxy = undefined;
  mocks = [];
});

describe('relay', () => {
  it('relays a message from nodemailer to the backend, with a trace header and 250 only after the backend', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks);
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: proxy.address.port, secure: false, ignoreTLS: true });
    const info = await transport.sendMail({ from: 'a@sender.test', to: ['b@example.test', 'c@example.test'], subject: 'hi', text: 'hello\n.leading dot\n', headers: { 'X-Attitude-Id': 'm1' } });
    transport.close();
    expect(info.response).toMatch(/^250 2\.0\.0 Ok: queued as mx1-1/);
    expect(mocks[0].received).toHaveLength(1);
    const got = mocks[0].received[0];
    expect(got.id).toBe('m1');
    expect(got.to).toEqual(['b@example.test', 'c@example.test']);
    const raw = got.raw.toString('latin1');
    expect(raw).toMatch(/^Received: from \S+ \(\[127\.0\.0\.1\]\)\r\n\tby mx\.attitude\.test \(attitude\) with ESMTP id /);
    expect(raw).toContain('\r\n.leading dot\r\n');
  });

  it('advertises the extensions of an MX and no AUTH without relay.auth', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { hostname: 'mx.example.test' });
    const c = await RawClient.connect(proxy.address.port);
    const banner = await c.read();
    expect(banner?.code).toBe(220);
    expect(banner?.text).toMatch(/^mx\.example\.test ESMTP/);
    const ehlo = await c.cmd('EHLO me.test');
    expect(ehlo?.text).toMatch(/^mx\.example\.test/);
    for (const ext of ['PIPELINING', '8BITMIME', 'SMTPUTF8', 'ENHANCEDSTATUSCODES', 'SIZE 10485760']) expect(ehlo?.text).toContain(ext);
    expect(ehlo?.text).not.toContain('AUTH');
    expect(ehlo?.text).not.toContain('STARTTLS');
    c.close();
  });

  it('refuses a recipient the backend refuses and delivers to the other', async () => {
    mocks = await backends(1, { rcpt: (a) => (a.startsWith('nobody') ? { code: 550, text: '5.1.1 no such user' } : null) });
    proxy = await proxyFor(mocks);
    const c = await RawClient.connect(proxy.address.port);
    await c.read();
    await c.cmd('EHLO me.test');
    expect((await c.cmd('MAIL FROM:<a@sender.test>'))?.code).toBe(250);
    expect(await c.cmd('RCPT TO:<nobody@example.test>')).toEqual({ code: 550, text: '5.1.1 no such user' });
    expect((await c.cmd('RCPT TO:<b@example.test>'))?.code).toBe(250);
    expect((await c.cmd('DATA'))?.code).toBe(354);
    const final = await c.cmd(message('r1') + '.');
    expect(final?.code).toBe(250);
    expect(mocks[0].received.map((m) => m.to)).toEqual([['b@example.test']]);
    c.close();
  });

  it.each([
    [451, '4.3.0 try later'],
    [554, '5.7.1 content refused'],
  ])('passes on the backend %i on the final dot', async (code, text) => {
    mocks = await backends(1, { decide: () => ({ code, text }) });
    proxy = await proxyFor(mocks);
    const c = await RawClient.connect(proxy.address.port);
    await c.read();
    expect(await c.send('a@sender.test', ['b@example.test'], message('x'))).toEqual({ code, text });
    c.close();
  });

  it('streams a 12 MB message through a backend that stops reading for a while: the client waits, every byte arrives', async () => {
    let c!: RawClient;
    // how much of the message the client still holds well into the stall: the proxy must have stopped reading
    let stuckAtClient = -1;
    const answer = smtpScript();
    const backend = await scriptedBackend((line, socket) => {
      if (/^DATA$/i.test(line)) {
        socket.pause();
        setTimeout(() => (stuckAtClient = c.socket.writableLength), 400);
        setTimeout(() => socket.resume(), 500);
      }
      return answer(line, socket);
    });
    try {
      proxy = await proxyFor([{ name: 'slow', address: backend.address }], { messages: { maxSize: '20MB' } });
      c = await RawClient.connect(proxy.address.port);
      await c.read();
      const line = 'z'.repeat(998) + '\r\n';
      const body = message('large') + line.repeat(12_000);
      const started = Date.now();
      for (const cmd of ['EHLO client.test', 'MAIL FROM:<a@sender.test>', 'RCPT TO:<b@example.test>']) expect((await c.cmd(cmd))?.code).toBe(250);
      expect((await c.cmd('DATA'))?.code).toBe(354);
      // in 64 KB writes, so the client's own buffer shows how much the proxy has not taken
      for (let i = 0; i < body.length; i += 65_536) c.write(body.slice(i, i + 65_536));
      const r = await c.cmd('.', 10_000);
      expect(r?.code).toBe(250);
      expect(Date.now() - started).toBeGreaterThanOrEqual(450);
      // the kernel buffers of both legs hold a few MB; without backpressure the proxy would have taken it all
      expect(stuckAtClient).toBeGreaterThan(4 * 1024 * 1024);
      expect(backend.messages).toHaveLength(1);
      const got = backend.messages[0];
      const trace = got.slice(0, got.indexOf('From: a@sender.test'));
      expect(trace).toMatch(/^Received: [^]*\r\n$/);
      expect(got.slice(trace.length)).toBe(body);
      c.close();
    } finally {
      await backend.close();
    }
  });

  it('answers 451 when the backend resets mid-DATA, and the next transaction goes through', async () => {
    let reset = true;
    mocks = await backends(1, { onChunk: (n) => (reset && n > 1000 ? 'reset' : undefined) });
    proxy = await proxyFor(mocks, { backends: { healthCheck: { interval: '1s', timeout: '500ms', rise: 1, fall: 3 } } });
    const c = await RawClient.connect(proxy.address.port);
    await c.read();
    const big = message('big', 'X-Pad: ' + 'x'.repeat(200) + '\r\n') + 'y'.repeat(50_000) + '\r\n';
    const r = await c.send('a@sender.test', ['b@example.test'], big);
    expect(r?.code).toBe(451);
    expect(r?.text).toMatch(/^4\.4\.2 /);
    expect(mocks[0].received).toHaveLength(0);
    reset = false;
    expect((await c.send('a@sender.test', ['b@example.test'], message('after')))?.code).toBe(250);
    expect(mocks[0].received.map((m) => m.id)).toEqual(['after']);
    c.close();
  });

  it('leaves nothing at the backend when the client drops mid-DATA', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks);
    const c = await RawClient.connect(proxy.address.port);
    await c.read();
    await c.cmd('EHLO me.test');
    await c.cmd('MAIL FROM:<a@sender.test>');
    await c.cmd('RCPT TO:<b@example.test>');
    await c.cmd('DATA');
    c.write(message('dropped') + 'partial line without end');
    await new Promise((r) => setTimeout(r, 100));
    c.close();
    // the transaction is over (and its backend connection given back) before absence is judged
    expect(await until(() => drained(proxy!))).toBe(true);
    expect(mocks[0].received).toHaveLength(0);
    // the proxy still serves others
    const d = await RawClient.connect(proxy.address.port);
    await d.read();
    expect((await d.send('a@sender.test', ['b@example.test'], message('next')))?.code).toBe(250);
    d.close();
  });

  it('reuses backend connections across transactions and with RSET', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks);
    const c = await RawClient.connect(proxy.address.port);
    await c.read();
    for (let i = 0; i < 5; i++) expect((await c.send('a@sender.test', ['b@example.test'], message(`k${i}`)))?.code).toBe(250);
    await c.cmd('MAIL FROM:<a@sender.test>');
    await c.cmd('RCPT TO:<b@example.test>');
    expect((await c.cmd('RSET'))?.code).toBe(250);
    expect((await c.send('a@sender.test', ['b@example.test'], message('after-rset')))?.code).toBe(250);
    c.close();
    // health checks open their own short sessions; relayed mail used a single kept one
    const relayed = new Set(mocks[0].received.map((m) => m.clientAddress));
    expect(relayed.size).toBe(1);
    expect(mocks[0].received).toHaveLength(6);
  });
});
