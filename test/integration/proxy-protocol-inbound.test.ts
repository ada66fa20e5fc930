// A load balancer in front of the proxy: its PROXY header names the real client,
// and the limits judge that client. Nobody else may send one.
import { afterEach, describe, expect, it } from 'vitest';
import { RawClient } from '../helpers/raw-smtp.ts';
import { backends, closeAll, message, proxyFor } from '../helpers/proxy.ts';
import { proxyHeader } from '../../proxy/relay/proxy-protocol.ts';
import { parseProxyHeader } from '../../proxy/smtp/proxy-header.ts';
import type { MockBackend } from '../../simulator/mock-backend.ts';
import type { Proxy } from '../../proxy/proxy.ts';

let mocks: MockBackend[] = [];
let proxy: Proxy | undefined;
afterEach(async () => {
  await closeAll(proxy, mocks);
  proxy = undefined;
  mocks = [];
});

const header = (version: 'v1' | 'v2', ip: string) => proxyHeader(version, { ip, port: 40000, localIp: '127.0.0.1', localPort: 25 });

describe('PROXY protocol from a trusted balancer', () => {
  it('parses what the outbound side writes, both versions, split anywhere', () => {
    for (const version of ['v1', 'v2'] as const) {
      const h = Buffer.concat([header(version, '203.0.113.9'), Buffer.from('EHLO x\r\n')]);
      for (let cut = 1; cut < h.length - 8; cut++) expect(parseProxyHeader(h.subarray(0, cut))?.header ?? null).toBeNull();
      expect(parseProxyHeader(h)).toEqual({ header: { ip: '203.0.113.9', port: 40000 }, length: h.length - 8 });
    }
    for (const version of ['v1', 'v2'] as const) expect(parseProxyHeader(header(version, '2001:db8::7'))?.header).toEqual({ ip: '2001:db8::7', port: 40000 });
    expect(() => parseProxyHeader(Buffer.from('EHLO x\r\n'))).toThrow(/no PROXY/);
  });

  it.each(['v1', 'v2'] as const)('judges the client named in a %s header, and relays its address', async (version) => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { relay: { domains: ['example.test'] }, connections: { proxyProtocolFrom: ['127.0.20.0/24'], deny: ['203.0.113.66/32'], perClient: 100, max: 1000, rate: 'off' } }, [{ xclient: true }]);
    // a denied client behind the balancer is refused
    const denied = await RawClient.connect(proxy.address.port, '127.0.20.1');
    denied.write(header(version, '203.0.113.66'));
    expect((await denied.read())?.code).toBe(554);
    // an allowed one is served, and the backend hears of the real address
    const ok = await RawClient.connect(proxy.address.port, '127.0.20.1');
    ok.write(header(version, '203.0.113.7'));
    expect((await ok.read())?.code).toBe(220);
    expect((await ok.send('a@sender.test', ['b@example.test'], message('pp-in')))?.code).toBe(250);
    expect(mocks[0].received.map((m) => m.xclientAddr)).toEqual(['203.0.113.7']);
    expect(mocks[0].received[0].raw.toString()).toContain('([203.0.113.7])');
    for (const c of [denied, ok]) c.close();
  });

  it('does not take a PROXY header from anyone else', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { connections: { proxyProtocolFrom: ['127.0.20.0/24'], perClient: 100, max: 1000, rate: 'off' } });
    const c = await RawClient.connect(proxy.address.port, '127.0.21.1');
    expect((await c.read())?.code).toBe(220);
    const r = await c.cmd('PROXY TCP4 203.0.113.7 127.0.0.1 40000 25');
    expect(r?.code).toBe(500);
    c.close();
  });

  it('drops a trusted peer that sends no header', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { connections: { proxyProtocolFrom: ['127.0.20.0/24'], perClient: 100, max: 1000, rate: 'off' } });
    const c = await RawClient.connect(proxy.address.port, '127.0.20.2');
    c.write('EHLO sneaky\r\n');
    expect(await c.waitClosed()).toBe(true);
  });
});
