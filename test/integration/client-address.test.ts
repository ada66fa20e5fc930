// The real client address reaches the backend: XCLIENT (Postfix) or PROXY protocol.
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { RawClient } from '../helpers/raw-smtp.ts';
import { backends, closeAll, message, proxyFor } from '../helpers/proxy.ts';
import type { MockBackend } from '../../simulator/mock-backend.ts';
import type { Proxy } from '../../proxy/proxy.ts';

let mocks: MockBackend[] = [];
let proxy: Proxy | undefined;
afterEach(async () => {
  await closeAll(proxy, mocks);
  proxy = undefined;
  mocks = [];
});

async function sendFrom(ip: string, id: string): Promise<number | undefined> {
  const c = await RawClient.connect(proxy!.address.port, ip);
  await c.read();
  const r = await c.send('a@sender.test', ['b@example.test'], message(id), `helo-${id}.test`);
  c.close();
  return r?.code;
}

describe('client address towards the backend', () => {
  it('sends XCLIENT with the client address and never mixes clients on one backend connection', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, {}, [{ xclient: true }]);
    expect(await sendFrom('127.0.5.5', 'x1')).toBe(250);
    expect(await sendFrom('127.0.5.6', 'x2')).toBe(250);
    expect(await sendFrom('127.0.5.5', 'x3')).toBe(250);
    expect(mocks[0].received.map((m) => [m.id, m.xclientAddr])).toEqual([
      ['x1', '127.0.5.5'],
      ['x2', '127.0.5.6'],
      ['x3', '127.0.5.5'],
    ]);
  });

  it.each(['v1', 'v2'] as const)('sends a PROXY protocol %s header first', async (version) => {
    const headers: Buffer[] = [];
    const server = net.createServer((socket) => {
      socket.once('data', (d) => {
        headers.push(d);
        socket.write('220 pp.test ESMTP\r\n');
        socket.on('data', (x) => {
          for (const line of x.toString().split('\r\n').filter(Boolean)) {
            if (/^EHLO/i.test(line)) socket.write('250 pp.test\r\n');
            else if (/^DATA/i.test(line)) socket.write('354 go\r\n');
            else if (line === '.') socket.write('250 2.0.0 ok\r\n');
            else if (/^(MAIL|RCPT|RSET)/i.test(line)) socket.write('250 2.0.0 ok\r\n');
            else if (/^QUIT/i.test(line)) socket.end('221 bye\r\n');
          }
        });
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    proxy = await proxyFor([{ name: 'pp', address: `127.0.0.1:${port}` } as unknown as MockBackend], { backends: { healthCheck: { enabled: false } } }, [{ proxyProtocol: version }]);
    expect(await sendFrom('127.0.7.7', 'p1')).toBe(250);
    const first = headers[0];
    if (version === 'v1') {
      expect(first.toString('latin1')).toMatch(new RegExp(`^PROXY TCP4 127\\.0\\.7\\.7 127\\.0\\.0\\.1 \\d+ ${proxy.address.port}\\r\\n`));
    } else {
      expect(first.subarray(0, 12)).toEqual(Buffer.from('0d0a0d0a000d0a515549540a', 'hex'));
      expect(first[12]).toBe(0x21);
      expect(first[13]).toBe(0x11);
      expect([...first.subarray(16, 20)]).toEqual([127, 0, 7, 7]);
      expect(first.readUInt16BE(26)).toBe(proxy.address.port);
    }
    await proxy.close(100);
    proxy = undefined;
    await new Promise<void>((r) => server.close(() => r()));
  });
});
