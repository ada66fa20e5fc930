// Message limits through the real proxy: SIZE advertised and enforced while
// streaming (nothing reaches the backend, no final dot goes out), recipients per
// message, and the message, sender and recipient rates (always 450, never a 5xx).
import { afterEach, describe, expect, it } from 'vitest';
import { RawClient } from '../helpers/raw-smtp.ts';
import { backends, closeAll, message, proxyFor } from '../helpers/proxy.ts';
import { scriptedBackend, smtpScript } from '../helpers/scripted-backend.ts';
import { addr, asBackend, bigMessage, greeted, openData, refusals, until } from '../helpers/defenses.ts';
import type { MockBackend } from '../../simulator/mock-backend.ts';
import type { Proxy } from '../../proxy/proxy.ts';

let mocks: MockBackend[] = [];
let proxy: Proxy | undefined;
let clients: RawClient[] = [];
let scripted: { close(): Promise<void> } | undefined;
afterEach(async () => {
  for (const c of clients) c.close();
  clients = [];
  await closeAll(proxy, mocks, scripted);
  proxy = undefined;
  scripted = undefined;
  mocks = [];
});

async function open(local?: string) {
  const g = await greeted(proxy!.address.port, local);
  clients.push(g.c);
  expect(g.banner?.code).toBe(220);
  return g.c;
}

const KB = 1024;

describe('message size', () => {
  it('advertises messages.maxSize in the EHLO SIZE extension', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { messages: { maxSize: '64KB' } });
    const c = await open(addr(60, 0));
    const ehlo = await c.cmd('EHLO me.test');
    expect(ehlo?.text.split('\n')).toContain('SIZE 65536');
    // a declared size over the limit is refused at MAIL already
    const mail = await c.cmd('MAIL FROM:<big@sender.test> SIZE=65537');
    expect(mail?.code).toBe(552);
    expect(mail?.text).toMatch(/^5\.3\.4 /);
    expect((await c.cmd('MAIL FROM:<ok@sender.test> SIZE=65536'))?.code).toBe(250);
  });

  it('refuses an oversized message with 552 5.3.4 while it streams; the backend gets nothing', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { messages: { maxSize: '64KB' } });
    const c = await open(addr(60, 1));
    expect((await openData(c, 'big@sender.test', ['b@example.test'])).at(-1)?.code).toBe(354);
    c.write(Buffer.concat([bigMessage('too-big', 200 * KB), Buffer.from('.\r\n')]));
    const r = await c.read(10_000);
    expect(r?.code).toBe(552);
    expect(r?.text).toMatch(/^5\.3\.4 .*65536/);
    expect(mocks[0].received).toHaveLength(0);
    expect(await refusals(proxy, 'message-too-large', { stage: 'data', code: '552' })).toBe(1);
    // the session goes on, and a message under the limit passes
    expect((await c.send('small@sender.test', ['b@example.test'], message('small')))?.code).toBe(250);
    expect(mocks[0].received.map((m) => m.id)).toEqual(['small']);
  });

  it('never sends the final dot for an oversized message (the backend connection is dropped inside DATA)', async () => {
    const backend = await scriptedBackend(smtpScript());
    scripted = backend;
    proxy = await proxyFor([asBackend<MockBackend>('scripted', backend.address)], {
      messages: { maxSize: '64KB' },
      backends: { healthCheck: { enabled: false } },
    });
    const c = await open(addr(60, 2));
    expect((await openData(c, 'big@sender.test', ['b@example.test'])).at(-1)?.code).toBe(354);
    c.write(Buffer.concat([bigMessage('too-big', 200 * KB), Buffer.from('.\r\n')]));
    expect((await c.read(10_000))?.code).toBe(552);
    // the refused message's backend connection is dropped before absence is judged
    expect(await until(() => proxy!.state().backends[0].open === 0)).toBe(true);
    const afterData = backend.lines.slice(backend.lines.lastIndexOf('DATA') + 1);
    expect(backend.lines).toContain('DATA');
    expect(afterData).not.toContain('.');
    expect(afterData).not.toContain('QUIT');
  });
});

describe('recipients per message', () => {
  it('answers the recipient over messages.maxRecipients with 452 4.5.3 and delivers to the others', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { messages: { maxRecipients: 3 } });
    const c = await open(addr(61, 0));
    await c.cmd('EHLO me.test');
    expect((await c.cmd('MAIL FROM:<a@sender.test>'))?.code).toBe(250);
    for (let i = 1; i <= 3; i++) expect((await c.cmd(`RCPT TO:<u${i}@example.test>`))?.code).toBe(250);
    const extra = await c.cmd('RCPT TO:<u4@example.test>');
    expect(extra?.code).toBe(452);
    expect(extra?.text).toMatch(/^4\.5\.3 too many recipients.*limit 3/);
    expect((await c.cmd('DATA'))?.code).toBe(354);
    expect((await c.cmd(message('rcpts') + '.'))?.code).toBe(250);
    expect(mocks[0].received[0].to).toEqual(['u1@example.test', 'u2@example.test', 'u3@example.test']);
    expect(await refusals(proxy, 'too-many-recipients', { stage: 'rcpt', code: '452' })).toBe(1);
    // the limit is per message: the next transaction starts from zero
    expect((await c.send('a@sender.test', ['u1@example.test', 'u2@example.test', 'u3@example.test'], message('rcpts2')))?.code).toBe(250);
  });
});

describe('rates (450 4.7.1, never a 5xx)', () => {
  it('limits messages per client address at MAIL', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { messages: { rate: '3/1m' } });
    const c = await open(addr(62, 0));
    for (let i = 0; i < 3; i++) expect((await c.send(`s${i}@sender.test`, ['b@example.test'], message(`mr${i}`)))?.code).toBe(250);
    const r = await c.cmd('MAIL FROM:<s9@sender.test>');
    expect(r?.code).toBe(450);
    expect(r?.text).toMatch(/^4\.7\.1 message rate limit exceeded for your address \(limit 3\/1m, retry in \d+s\)/);
    // another address is not affected
    const d = await open(addr(62, 1));
    expect((await d.send('s9@sender.test', ['b@example.test'], message('mr-other')))?.code).toBe(250);
    expect(mocks[0].received).toHaveLength(4);
    expect(await refusals(proxy, 'message-rate', { stage: 'mail', code: '450' })).toBe(1);
  });

  it('limits messages per envelope sender, whatever address they come from', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { messages: { senderRate: '2/1m' } });
    for (let i = 0; i < 2; i++) {
      const c = await open(addr(63, i));
      expect((await c.send('Bulk@Sender.test', ['b@example.test'], message(`sr${i}`)))?.code).toBe(250);
    }
    const c = await open(addr(63, 2));
    await c.cmd('EHLO me.test');
    // the sender compares case-insensitively
    const r = await c.cmd('MAIL FROM:<bulk@sender.test>');
    expect(r?.code).toBe(450);
    expect(r?.text).toMatch(/^4\.7\.1 message rate limit exceeded for this sender \(limit 2\/1m/);
    // another sender from the same address still goes
    expect((await c.send('other@sender.test', ['b@example.test'], message('sr-other')))?.code).toBe(250);
    // the null sender (bounces) is not limited per sender
    for (let i = 0; i < 3; i++) expect((await c.send('', ['b@example.test'], message(`bounce${i}`)))?.code).toBe(250);
    expect(await refusals(proxy, 'sender-rate', { stage: 'mail', code: '450' })).toBe(1);
  });

  it('limits recipients per client address at RCPT', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { messages: { recipientRate: '4/1m' } });
    const c = await open(addr(64, 0));
    expect((await c.send('a@sender.test', ['r1@example.test', 'r2@example.test', 'r3@example.test'], message('rr1')))?.code).toBe(250);
    expect((await c.cmd('MAIL FROM:<a@sender.test>'))?.code).toBe(250);
    expect((await c.cmd('RCPT TO:<r4@example.test>'))?.code).toBe(250);
    const r = await c.cmd('RCPT TO:<r5@example.test>');
    expect(r?.code).toBe(450);
    expect(r?.text).toMatch(/^4\.7\.1 recipient rate limit exceeded for your address \(limit 4\/1m/);
    expect((await c.cmd('DATA'))?.code).toBe(354);
    expect((await c.cmd(message('rr2') + '.'))?.code).toBe(250);
    expect(mocks[0].received.map((m) => m.to)).toEqual([['r1@example.test', 'r2@example.test', 'r3@example.test'], ['r4@example.test']]);
    expect(await refusals(proxy, 'recipient-rate', { stage: 'rcpt', code: '450' })).toBe(1);
  });

  it('answers every rate refusal of a burst with a 4xx, never a 5xx', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { messages: { rate: '2/1m', senderRate: '3/1m', recipientRate: '3/1m' } });
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) {
      const c = await open(addr(65, i % 2));
      await c.cmd('EHLO me.test');
      const mail = await c.cmd('MAIL FROM:<burst@sender.test>');
      codes.push(mail!.code);
      if (mail!.code !== 250) continue;
      for (let k = 0; k < 3; k++) codes.push((await c.cmd(`RCPT TO:<k${k}@example.test>`))!.code);
      await c.cmd('RSET');
    }
    const refused = codes.filter((x) => x !== 250);
    expect(refused.length).toBeGreaterThan(0);
    for (const code of refused) expect(code).toBe(450);
  });
});
