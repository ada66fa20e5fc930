// BDAT (RFC 3030) towards a backend that offers CHUNKING: the client's DATA gets its 354
// without a round trip to the backend, the message goes as it is (no dot-stuffing, no
// end-of-data line for the backend to misread) in chunks, and the client's 250 is the
// backend's reply to the LAST chunk, or the first chunk the backend refused.
import { afterEach, describe, expect, it } from 'vitest';
import { RawClient } from '../helpers/raw-smtp.ts';
import { chunkingBackend, type ChunkingBackend, type ChunkingOptions } from '../helpers/chunking-backend.ts';
import { message, proxyFor } from '../helpers/proxy.ts';
import type { Proxy } from '../../proxy/proxy.ts';

let backend: ChunkingBackend | undefined;
let proxy: Proxy | undefined;
let client: RawClient | undefined;
afterEach(async () => {
  client?.close();
  await proxy?.close(1000);
  await backend?.close();
  client = proxy = backend = undefined;
});

async function through(options: ChunkingOptions = {}, overrides: Record<string, unknown> = {}) {
  backend = await chunkingBackend(options);
  proxy = await proxyFor([{ name: 'mx1', address: backend.address }], { backends: { healthCheck: { enabled: false } }, ...overrides });
  client = await RawClient.connect(proxy.address.port);
  await client.read();
  return client;
}

describe('BDAT towards a backend that offers CHUNKING', () => {
  it('sends the message as it is in BDAT chunks, never DATA, and answers with the LAST chunk reply', async () => {
    const c = await through();
    // a line that is a single dot and one that starts with one: dot-stuffed by the client, not towards the backend
    const body = message('b1', 'X-Test: dots\r\n') + '.\r\n..two\r\n.leading\r\nend\r\n';
    const r = await c.send('a@sender.test', ['b@example.test'], body);
    expect(r).toMatchObject({ code: 250, text: '2.0.0 queued as BDAT1' });
    expect(backend!.lines.filter((l) => l === 'DATA')).toEqual([]);
    expect(backend!.lines.some((l) => /^BDAT \d+ LAST$/.test(l))).toBe(true);
    expect(backend!.messages).toHaveLength(1);
    const got = backend!.messages[0].toString('latin1');
    // our trace header on top, then the client's message byte for byte (RawClient ends it with CRLF before the dot)
    expect(got).toMatch(/^Received: from client\.test/);
    expect(got.slice(-body.length - 2)).toBe(body + '\r\n');
  });

  it('streams a large message in several chunks, each answered, and delivers it whole', async () => {
    const c = await through();
    const line = 'x'.repeat(998) + '\r\n';
    const body = message('big') + line.repeat(300) + '.\r\n';
    const r = await c.send('a@sender.test', ['b@example.test'], body);
    expect(r?.code).toBe(250);
    expect(backend!.chunkSizes[0].length).toBeGreaterThan(3);
    expect(backend!.messages[0].toString('latin1').endsWith(body + '\r\n')).toBe(true);
    expect(backend!.chunkSizes[0].reduce((a, b) => a + b, 0)).toBe(backend!.messages[0].length);
  });

  it('gives the client the first chunk the backend refused, and keeps the session for the next message', async () => {
    const c = await through({ chunkReply: (n, last) => (n === 0 && !last ? '452 4.3.1 out of storage' : null) });
    const big = message('refused') + ('y'.repeat(500) + '\r\n').repeat(100);
    expect(await c.send('a@sender.test', ['b@example.test'], big)).toMatchObject({ code: 452, text: '4.3.1 out of storage' });
    expect(backend!.messages).toHaveLength(0);
    // a small message is one LAST chunk: the backend takes it
    expect((await c.transaction('a@sender.test', ['b@example.test'], message('next'))).pop()?.code).toBe(250);
    expect(backend!.messages).toHaveLength(1);
  });

  it('passes on a refusal of the LAST chunk', async () => {
    const c = await through({ chunkReply: (_n, last) => (last ? '554 5.7.1 no thanks' : null) });
    expect(await c.send('a@sender.test', ['b@example.test'], message('no'))).toMatchObject({ code: 554, text: '5.7.1 no thanks' });
  });

  it('uses DATA when backends.chunking is off', async () => {
    const c = await through({}, { backends: { healthCheck: { enabled: false }, chunking: false } });
    expect((await c.send('a@sender.test', ['b@example.test'], message('data')))?.code).toBe(250);
    expect(backend!.lines).toContain('DATA');
    expect(backend!.lines.some((l) => l.startsWith('BDAT'))).toBe(false);
  });

  it('sends no LAST chunk for a message a filter refuses', async () => {
    const c = await through();
    const eicar = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
    const r = await c.send('a@sender.test', ['b@example.test'], message('virus') + eicar + '\r\n');
    expect(r?.code).toBe(554);
    expect(backend!.lines.some((l) => /LAST$/.test(l))).toBe(false);
    expect(backend!.messages).toHaveLength(0);
  });
});
