// The relay core's ownership of client sessions (issue: relay core, defects 1, 3, 4, 5
// and 11): whatever a client does (STARTTLS then QUIT, pipeline and hang up, hang up
// in DATA, RSET), its connection slot, its transaction and the backend connection it
// leased come back, /state says so, and a shutdown answers it before closing.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { proxyFixture } from '../helpers/fixture.ts';
import { backends, message, proxyFor } from '../helpers/proxy.ts';
import { addr, drained, sleep, until } from '../helpers/defenses.ts';
import { selfSigned, startTls } from '../helpers/tls.ts';
import { RawClient } from '../helpers/raw-smtp.ts';
import { parseProxyConfig } from '../../proxy/config/load.ts';

const f = proxyFixture();

describe('connection slots', () => {
  it('frees the slot of every STARTTLS session that ends with QUIT: perClient and max are never used up', async () => {
    f.mocks = await backends(1);
    f.proxy = await proxyFor(f.mocks, { tls: selfSigned(), connections: { perClient: 2, max: 3, rate: 'off' } });
    // five sessions one after the other from one address (perClient 2), then five more from others (max 3)
    for (let i = 0; i < 10; i++) {
      const { c, banner } = await f.open(i < 5 ? addr(80, 0) : addr(80, i));
      expect(banner?.code, `session ${i}`).toBe(220);
      expect((await c.cmd('EHLO client.test'))?.code).toBe(250);
      const { tls } = await startTls(c);
      f.clients.push(tls);
      expect((await tls.cmd('EHLO client.test'))?.code).toBe(250);
      expect((await tls.cmd('QUIT'))?.code).toBe(221);
      expect(await tls.waitClosed()).toBe(true);
    }
    expect(await until(() => drained(f.proxy!))).toBe(true);
  });

  it('frees the slot of a STARTTLS session whose client just hangs up', async () => {
    f.mocks = await backends(1);
    f.proxy = await proxyFor(f.mocks, { tls: selfSigned(), connections: { perClient: 1, rate: 'off' } });
    for (let i = 0; i < 3; i++) {
      const { c, banner } = await f.open(addr(81, 0));
      expect(banner?.code, `session ${i}`).toBe(220);
      await c.cmd('EHLO client.test');
      const { tls } = await startTls(c);
      tls.close();
      expect(await until(() => f.proxy!.state().connections.active === 0)).toBe(true);
    }
  });
});

describe('QUIT', () => {
  // RFC 5321 4.1.1.10: OK, then close. A lingering close (kept for the 421s, whose
  // client may still be sending) would hold the session LINGER_MS (2 s) for a client
  // that does not close its side.
  it('closes the connection once 221 is out, without waiting for the client to close its side; over TLS after close_notify', async () => {
    f.mocks = await backends(1);
    f.proxy = await proxyFor(f.mocks, { tls: selfSigned(), connections: { rate: 'off' } });
    for (const secure of [false, true]) {
      const socket = net.connect({ host: '127.0.0.1', port: f.proxy.address.port, allowHalfOpen: true });
      await new Promise((r) => socket.once('connect', r));
      let c = RawClient.over(socket);
      expect((await c.read())?.code).toBe(220);
      expect((await c.cmd('EHLO client.test'))?.code).toBe(250);
      if (secure) c = (await startTls(c)).tls;
      const errors: string[] = [];
      c.socket.on('error', (e: Error & { code?: string }) => errors.push(e.code ?? e.message));
      const ended = new Promise<void>((r) => c.socket.once('end', () => r()));
      expect((await c.cmd('QUIT'))?.code).toBe(221);
      await ended;
      // the client keeps its side open: the proxy has let go all the same
      expect(socket.destroyed).toBe(false);
      expect(await until(() => f.proxy!.state().connections.active === 0, 1000, 5), secure ? 'TLS' : 'plain').toBe(true);
      expect(errors, 'a clean end').toEqual([]);
      socket.destroy();
    }
  });
});

describe('backend connections', () => {
  it('come back to the pool when clients pipeline a whole transaction and hang up (160 clients, 8 at a time)', async () => {
    f.mocks = await backends(1, { latency: 2 });
    f.proxy = await proxyFor(f.mocks, { backends: { healthCheck: { enabled: false }, queueTimeout: '2s' } }, [{ maxConnections: 10 }]);
    const burst = 'EHLO pipeliner.test\r\nMAIL FROM:<a@sender.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n' + message('half').slice(0, 80);
    for (let wave = 0; wave < 20; wave++) {
      await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          new Promise<void>((resolve) => {
            const socket = net.connect({ host: '127.0.0.1', port: f.proxy!.address.port, localAddress: addr(82, wave * 8 + i) });
            socket.on('error', () => {});
            socket.once('data', () => {
              socket.write(burst);
              // hang up at different points of the proxy's work: at once, during MAIL/RCPT, during DATA
              setTimeout(() => socket.destroy(), i * 3);
            });
            socket.once('close', () => resolve());
          }),
        ),
      );
    }
    expect(await until(() => drained(f.proxy!), 5000), JSON.stringify(f.proxy.state().backends)).toBe(true);
    expect(f.proxy.state().backends[0]).toMatchObject({ health: 'up', failures: 0 });
    expect(f.mocks[0].received).toHaveLength(0);
    const { c } = await f.open(addr(82, 200));
    expect((await c.send('a@sender.test', ['b@example.test'], message('after')))?.code).toBe(250);
  });

  it('a client that hangs up during DATA or before the reply to its final dot says nothing about the backend: it stays up with fall 1', async () => {
    f.mocks = await backends(1, { latency: 100 });
    f.proxy = await proxyFor(f.mocks, { backends: { healthCheck: { interval: '10s', timeout: '1s', rise: 1, fall: 1 } } });
    for (let i = 0; i < 6; i++) {
      const { c } = await f.open(addr(83, i));
      for (const line of ['EHLO client.test', 'MAIL FROM:<a@sender.test>', 'RCPT TO:<b@example.test>']) await c.cmd(line);
      const body = message(`gone${i}`);
      if (i % 3 === 0) {
        // half a message after the 354
        expect((await c.cmd('DATA'))?.code).toBe(354);
        c.write(body.slice(0, 90));
      } else if (i % 3 === 1) {
        // all of it and the final dot, gone before the answer
        expect((await c.cmd('DATA'))?.code).toBe(354);
        c.write(body + '.\r\n');
      } else {
        // DATA and half a message in one write, without waiting for the 354, and gone at once
        c.write('DATA\r\n' + body.slice(0, 90));
        c.close();
      }
      await sleep(30);
      c.close();
    }
    expect(await until(() => drained(f.proxy!))).toBe(true);
    const mx1 = f.proxy.state().backends[0];
    expect(mx1).toMatchObject({ health: 'up', failures: 0 });
    const { c } = await f.open(addr(83, 9));
    expect((await c.send('a@sender.test', ['b@example.test'], message('next')))?.code).toBe(250);
  });
});

describe('waiting for a backend connection', () => {
  it('a client that leaves while it waits (maxConnections reached) leaves nothing behind: one connection, idle after', async () => {
    f.mocks = await backends(1, { latency: 300 });
    f.proxy = await proxyFor(f.mocks, { backends: { healthCheck: { enabled: false }, queueTimeout: '5s' } }, [{ maxConnections: 1 }]);
    const a = (await f.open(addr(84, 10))).c;
    const sending = a.send('a@sender.test', ['b@example.test'], message('first'));
    await sleep(50);
    const b = (await f.open(addr(84, 11))).c;
    await b.cmd('EHLO waiter.test');
    b.write('MAIL FROM:<b@sender.test>\r\n');
    await sleep(50);
    b.close();
    expect((await sending)?.code).toBe(250);
    a.close();
    expect(await until(() => drained(f.proxy!), 3000)).toBe(true);
    // one connection was ever opened to the backend, and it is idle for the next transaction
    expect(f.proxy.state().backends[0]).toMatchObject({ open: 1, idle: 1, active: 0 });
  });
});

describe('RSET', () => {
  it("ends the proxy's transaction: nothing in flight, the backend connection idle, and a shutdown does not wait for it", async () => {
    f.mocks = await backends(1);
    f.proxy = await proxyFor(f.mocks, { shutdownTimeout: '20s' });
    const { c } = await f.open(addr(84, 0));
    for (const line of ['EHLO client.test', 'MAIL FROM:<a@sender.test>', 'RCPT TO:<b@example.test>']) expect((await c.cmd(line))?.code).toBe(250);
    expect(f.proxy.state().transactions.inFlight).toBe(1);
    expect((await c.cmd('RSET'))?.code).toBe(250);
    const s = f.proxy.state();
    expect(s.transactions.inFlight).toBe(0);
    expect(s.backends[0]).toMatchObject({ active: 0, open: 1, idle: 1 });
    const t0 = Date.now();
    const closing = f.proxy.close();
    expect(await c.read(3000)).toMatchObject({ code: 421, text: expect.stringMatching(/^4\.3\.2 /) });
    await closing;
    expect(Date.now() - t0).toBeLessThan(3000);
    f.proxy = undefined;
  });
});

describe('shutdown', () => {
  it('answers a client still in DATA at the end of shutdownTimeout before closing, and nothing reaches the backend', async () => {
    f.mocks = await backends(1);
    f.proxy = await proxyFor(f.mocks);
    const { c } = await f.open(addr(85, 0));
    for (const line of ['EHLO client.test', 'MAIL FROM:<a@sender.test>', 'RCPT TO:<b@example.test>']) await c.cmd(line);
    expect((await c.cmd('DATA'))?.code).toBe(354);
    c.write(message('slow').slice(0, 100));
    const closing = f.proxy.close(300);
    const r = await c.read(3000);
    expect(r?.code).toBe(421);
    expect(r?.text).toMatch(/^4\.3\.2 /);
    expect(await c.waitClosed()).toBe(true);
    await closing;
    f.proxy = undefined;
    expect(f.mocks[0].received).toHaveLength(0);
  });

  it('by default lets a message of maxSize at the per-client throttle finish within shutdownTimeout', () => {
    const config = parseProxyConfig({});
    const secondsForLargest = config.messages.maxSize / config.throttle.perClient!;
    expect(secondsForLargest * 1000).toBeLessThan(config.shutdownTimeout);
  });
});
