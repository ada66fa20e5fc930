// What a misbehaving client gets: the error tarpit (soft limit: every reply delayed,
// hard limit: 421 and close), HTTP requests, overlong lines, binary garbage, the idle
// timeout; and a fast-check property: random bytes and random command sequences from
// several clients never stop the proxy from serving another client, and every reply
// line anyone gets is well-formed.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RawClient } from '../helpers/raw-smtp.ts';
import { backends, closeAll, message, proxyFor } from '../helpers/proxy.ts';
import { addr, greeted, recordLines, refusals, sleep, timed } from '../helpers/defenses.ts';
import type { MockBackend } from '../../simulator/mock-backend.ts';
import type { Proxy } from '../../proxy/proxy.ts';

let mocks: MockBackend[] = [];
let proxy: Proxy | undefined;
let clients: RawClient[] = [];
afterEach(async () => {
  for (const c of clients) c.close();
  clients = [];
  await closeAll(proxy, mocks);
  proxy = undefined;
  mocks = [];
});

async function open(local?: string) {
  const g = await greeted(proxy!.address.port, local);
  clients.push(g.c);
  return g;
}

/** Another client can still do a whole transaction. */
async function stillServes(local: string, id: string): Promise<number | undefined> {
  const { c, banner } = await open(local);
  expect(banner?.code).toBe(220);
  return (await c.send('ok@sender.test', ['b@example.test'], message(id)))?.code;
}

const WELL_FORMED = /^\d{3}[ -]/;

describe('error tarpit', () => {
  it('delays every reply after errorSoftLimit errors and closes with 421 after errorHardLimit', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { connections: { errorSoftLimit: 2, errorHardLimit: 5, errorDelay: '400ms' } });
    const { c } = await open(addr(30, 0));
    const fast = (ms: number) => expect(ms).toBeLessThan(250);
    const slow = (ms: number) => expect(ms).toBeGreaterThanOrEqual(350);
    let t = await timed(() => c.cmd('EHLO me.test'));
    fast(t.ms);
    for (let i = 1; i <= 2; i++) {
      t = await timed(() => c.cmd('XYZZY'));
      expect(t.value?.code).toBe(500);
      fast(t.ms);
    }
    // third error: over the soft limit, this reply and every one after it waits
    t = await timed(() => c.cmd('XYZZY'));
    expect(t.value?.code).toBe(500);
    slow(t.ms);
    t = await timed(() => c.cmd('NOOP'));
    expect(t.value?.code).toBe(250);
    slow(t.ms);
    for (let i = 4; i <= 5; i++) {
      t = await timed(() => c.cmd('XYZZY'));
      expect(t.value?.code).toBe(500);
      slow(t.ms);
    }
    // sixth error: over the hard limit
    const last = await c.cmd('XYZZY');
    expect(last?.code).toBe(421);
    expect(last?.text).toMatch(/^4\.7\.0 too many errors.*limit 5/);
    expect(await c.waitClosed(3000)).toBe(true);
    expect(await refusals(proxy, 'too-many-errors', { code: '421' })).toBe(1);
    // the tarpit is per connection
    expect(await stillServes(addr(30, 1), 'after-tarpit')).toBe(250);
  });

  it('starts the count afresh once the client delivers a message (errors "without delivering mail")', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { connections: { errorSoftLimit: 2, errorHardLimit: 5, errorDelay: '400ms' } });
    const { c } = await open(addr(30, 2));
    await c.cmd('EHLO me.test');
    for (let i = 0; i < 3; i++) await c.cmd('XYZZY');
    // over the soft limit: held
    expect((await timed(() => c.cmd('NOOP'))).ms).toBeGreaterThanOrEqual(350);
    expect((await c.send('a@sender.test', ['b@example.test'], message('resets')))?.code).toBe(250);
    // delivered: replies are quick again, and it takes the full count of errors to get held again
    expect((await timed(() => c.cmd('NOOP'))).ms).toBeLessThan(250);
    for (let i = 0; i < 2; i++) expect((await timed(() => c.cmd('XYZZY'))).ms).toBeLessThan(250);
    expect((await timed(() => c.cmd('XYZZY'))).ms).toBeGreaterThanOrEqual(350);
  });

  it('does not count greylisted recipients: an MTA that pipelines five of them is not slowed down', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { greylist: { enabled: true, delay: '1s' }, connections: { errorSoftLimit: 2, errorHardLimit: 5, errorDelay: '400ms' } });
    const { c } = await open(addr(31, 5));
    await c.cmd('EHLO me.test');
    const rcpts = [1, 2, 3, 4, 5].map((i) => `RCPT TO:<u${i}@example.test>\r\n`).join('');
    const t = await timed(async () => {
      c.write(`MAIL FROM:<a@sender.test>\r\n${rcpts}DATA\r\n`);
      const codes: number[] = [];
      for (let i = 0; i < 7; i++) codes.push((await c.read(5000))?.code ?? 0);
      return codes;
    });
    // and DATA's 503 follows from them
    expect(t.value).toEqual([250, 450, 450, 450, 450, 450, 503]);
    expect(t.ms).toBeLessThan(250);
    expect((await timed(() => c.cmd('RSET'))).ms).toBeLessThan(250);
    expect((await timed(() => c.cmd('NOOP'))).ms).toBeLessThan(250);
    // a client error still counts: the third passes the soft limit
    for (let i = 0; i < 2; i++) expect((await timed(() => c.cmd('XYZZY'))).ms).toBeLessThan(250);
    expect((await timed(() => c.cmd('XYZZY'))).ms).toBeGreaterThanOrEqual(350);
  });

  it("counts a refused MAIL once, not the 503s its pipelined RCPTs and DATA get; a 503 out of the blue counts", async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { messages: { rate: '1/1m' }, connections: { errorSoftLimit: 2, errorHardLimit: 4, errorDelay: '400ms' } });
    const { c } = await open(addr(31, 6));
    await c.cmd('EHLO me.test');
    const group = (id: string) => `MAIL FROM:<a@sender.test>\r\n${[1, 2, 3].map((i) => `RCPT TO:<u${i}@example.test>\r\n`).join('')}DATA\r\n`;
    const replies = async (n: number) => {
      const codes: number[] = [];
      for (let i = 0; i < n; i++) codes.push((await c.read(5000))?.code ?? 0);
      return codes;
    };
    expect((await c.send('a@sender.test', ['u@example.test'], message('first')))?.code).toBe(250);
    // over the message rate, twice: each time MAIL is refused and the rest of the group gets 503
    for (const id of ['second', 'third']) {
      const t = await timed(async () => {
        c.write(group(id));
        return replies(5);
      });
      expect(t.value).toEqual([450, 503, 503, 503, 503]);
      expect(t.ms, id).toBeLessThan(250);
    }
    // two errors so far, the two refused MAILs: not past the soft limit yet
    expect((await timed(() => c.cmd('NOOP'))).ms).toBeLessThan(250);
    // a RCPT without MAIL after RSET is an error of its own: the third, past the soft limit
    await c.cmd('RSET');
    const lone = await timed(() => c.cmd('RCPT TO:<x@example.test>'));
    expect(lone.value?.code).toBe(503);
    expect(lone.ms).toBeGreaterThanOrEqual(350);
  });

  it('keeps pipelined replies in order while they are held', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { connections: { errorSoftLimit: 1, errorHardLimit: 10, errorDelay: '150ms' } });
    const { c } = await open(addr(31, 0));
    await c.cmd('EHLO me.test');
    c.write('BAD1\r\nBAD2\r\nNOOP\r\nBAD3\r\nNOOP\r\n');
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await c.read(5000))?.code ?? 0);
    expect(codes).toEqual([500, 500, 250, 500, 250]);
  });

  it('sends the hard-limit 421 after the replies still held, not before them', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { connections: { errorSoftLimit: 1, errorHardLimit: 3, errorDelay: '150ms' } });
    const { c } = await open(addr(31, 1));
    await c.cmd('EHLO me.test');
    c.write('BAD1\r\nBAD2\r\nBAD3\r\nBAD4\r\nBAD5\r\nNOOP\r\nBAD6\r\n');
    const codes: Array<number | undefined> = [];
    for (let i = 0; i < 5; i++) codes.push((await c.read(5000))?.code);
    expect(codes).toEqual([500, 500, 500, 421, undefined]);
    expect(await c.waitClosed(3000)).toBe(true);
    // one session ended: one refusal, however many pipelined commands were still due
    expect(await refusals(proxy, 'too-many-errors', { stage: 'session', code: '421' })).toBe(1);
  });
});

describe('garbage and protocol abuse', () => {
  it('refuses an HTTP request and closes', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks);
    const { c } = await open(addr(32, 0));
    c.write('GET / HTTP/1.1\r\nHost: mx.attitude.test\r\nUser-Agent: curl\r\n\r\n');
    const r = await c.read(3000);
    expect(r?.code).toBe(421);
    expect(r?.text).toMatch(/HTTP/);
    expect(await c.waitClosed(3000)).toBe(true);
    expect(await stillServes(addr(32, 1), 'after-http')).toBe(250);
  });

  it('answers an overlong command line (> 512) with an error', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks);
    const { c } = await open(addr(33, 0));
    await c.cmd('EHLO me.test');
    const r = await c.cmd(`MAIL FROM:<${'a'.repeat(600)}@sender.test>`, 3000);
    expect(r).not.toBeNull();
    expect(r!.code).toBeGreaterThanOrEqual(400);
    expect(mocks[0].received).toHaveLength(0);
    expect(await stillServes(addr(33, 1), 'after-long')).toBe(250);
  });

  it('survives binary garbage: every reply is well-formed and others are served', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks);
    for (let k = 0; k < 4; k++) {
      const { c } = await open(addr(34, k));
      const rec = recordLines(c);
      const junk = randomBytes(32 * 1024);
      // some with line ends, some one endless line, one with NULs only
      if (k === 1) for (let i = 0; i < junk.length; i += 97) junk[i] = 0x0a;
      if (k === 3) junk.fill(0);
      c.write(junk);
      await sleep(150);
      for (const line of rec.lines()) expect(line).toMatch(WELL_FORMED);
      c.close();
    }
    expect(await stillServes(addr(34, 9), 'after-garbage')).toBe(250);
  });

  it('closes an idle connection with 421', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { connections: { idleTimeout: '500ms' } });
    const { c } = await open(addr(35, 0));
    await c.cmd('EHLO me.test');
    const { ms, value } = await timed(() => c.read(5000));
    expect(value?.code).toBe(421);
    expect(ms).toBeGreaterThanOrEqual(400);
    expect(ms).toBeLessThan(3000);
    expect(await c.waitClosed(3000)).toBe(true);
  });
});

describe('property: random input from several clients', () => {
  let shared: { proxy: Proxy; mocks: MockBackend[] };
  beforeAll(async () => {
    const m = await backends(1);
    shared = { mocks: m, proxy: await proxyFor(m, { connections: { errorDelay: '50ms', idleTimeout: '5s' } }) };
  });
  afterAll(async () => {
    await closeAll(shared.proxy, shared.mocks);
  });

  const commandLine = fc.oneof(
    fc.constantFrom(
      'EHLO fuzz.test',
      'HELO fuzz.test',
      'MAIL FROM:<f@sender.test>',
      'MAIL FROM:<>',
      'RCPT TO:<b@example.test>',
      'RCPT TO:<u%other.test@example.test>',
      'RCPT TO:<other.test!u@example.test>',
      'DATA',
      '.',
      'RSET',
      'NOOP',
      'VRFY root',
      'QUIT',
      'STARTTLS',
      'AUTH PLAIN AGFsaWNlAHNlY3JldA==',
      'BDAT 10 LAST',
      'GET / HTTP/1.1',
      'MAIL FROM:<x@y> SIZE=99999999999',
      'EHLO ' + 'x'.repeat(700),
    ),
    fc.string({ maxLength: 80 }),
  );
  const chunk = fc.oneof(
    commandLine.map((l) => Buffer.from(l + '\r\n', 'utf8')),
    fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
    fc.array(commandLine, { maxLength: 8 }).map((ls) => Buffer.from(ls.map((l) => l + '\r\n').join(''), 'utf8')),
  );
  const script = fc.array(chunk, { minLength: 1, maxLength: 6 });

  it('keeps serving a legitimate client with 250, and every reply line is well-formed', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(script, { minLength: 2, maxLength: 4 }), async (scripts) => {
        run++;
        const port = shared.proxy.address.port;
        const lines: Array<() => string[]> = [];
        const fuzzers = scripts.map(async (chunks, i) => {
          const c = await RawClient.connect(port, addr(40 + i, run));
          lines.push(recordLines(c).lines);
          try {
            for (const b of chunks) {
              if (c.closed) break;
              c.write(b);
              await sleep(5);
            }
            await sleep(60);
          } finally {
            c.close();
          }
        });
        const legit = (async () => {
          const c = await RawClient.connect(port, addr(39, run));
          const rec = recordLines(c);
          lines.push(rec.lines);
          try {
            const banner = await c.read(5000);
            const r = await c.send('legit@sender.test', ['b@example.test'], message(`prop-${run}`));
            await c.cmd('QUIT');
            return [banner?.code, r?.code];
          } finally {
            c.close();
          }
        })();
        const [codes] = await Promise.all([legit, ...fuzzers]);
        expect(codes).toEqual([220, 250]);
        for (const get of lines) for (const line of get()) expect(line).toMatch(WELL_FORMED);
      }),
      { numRuns: 30 },
    );
    expect(shared.mocks[0].received.filter((m) => m.id?.startsWith('prop-'))).toHaveLength(30);
  });
});
