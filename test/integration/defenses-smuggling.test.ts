// SMTP smuggling end to end (SEC Consult, 2023). Each transaction carries message A
// with a fake end-of-data variant inside, then a smuggled MAIL/RCPT/DATA and message B,
// then the real CRLF.CRLF; the client's bytes are split into two TCP writes at every
// offset around the variant. Strict mode: 550 5.6.0 and nothing at the backend.
// Normalize mode: 250 and the backend gets exactly one message, A, in CRLF lines;
// B never shows up as a message of its own, and the proxy itself never answers a
// smuggled command (the session stays in step). The detector is a mock backend that
// ends DATA as leniently as an unpatched MTA would (lenientDataEnd), so a variant that
// got through would show up there as a smuggled second message. Postfix's smtp-sink
// is used as a real backend too (one dump per transaction); note that the Debian
// smtp-sink of Postfix 3.7.11 ends DATA only on CRLF.CRLF (probed: none of the variants
// below ends its DATA), so there it checks the normalized output, not leniency.
import { afterEach, describe, expect, it } from 'vitest';
import { RawClient } from '../helpers/raw-smtp.ts';
import { backends, closeAll, proxyFor } from '../helpers/proxy.ts';
import { startSink, toolsMissing, type Sink } from '../helpers/postfix-tools.ts';
import { addr, asBackend, drained, greeted, refusals, sleep, until } from '../helpers/defenses.ts';
import type { MockBackend } from '../../simulator/mock-backend.ts';
import { VARIANT_BYTES } from '../../simulator/actors/smuggler.ts';
import type { Proxy } from '../../proxy/proxy.ts';

let mocks: MockBackend[] = [];
let proxy: Proxy | undefined;
let sink: Sink | undefined;
let clients: RawClient[] = [];
afterEach(async () => {
  for (const c of clients) c.close();
  clients = [];
  await closeAll(proxy, mocks);
  await sink?.stop();
  proxy = undefined;
  sink = undefined;
  mocks = [];
});

/** The end-of-data variants of the research and the NUL ones (the smuggler actor's), and one more. */
const VARIANTS: Record<string, string> = { ...VARIANT_BYTES, 'crlf-dot-lf': '\r\n.\n' };

const head = (id: string) =>
  `From: a@sender.test\r\nTo: b@example.test\r\nSubject: ${id}\r\nDate: ${new Date().toUTCString()}\r\nMessage-ID: <${id}@sender.test>\r\nX-Attitude-Id: ${id}\r\n\r\n`;

/** Message A with the variant, the smuggled transaction with message B, and the real end. */
function smuggling(variant: string, a: string, b: string): { payload: Buffer; at: number } {
  const before = head(a) + `body of ${a}`;
  const after = `MAIL FROM:<evil@attacker.test>\r\nRCPT TO:<victim@example.test>\r\nDATA\r\n${head(b)}smuggled ${b}\r\n.\r\n`;
  return { payload: Buffer.from(before + variant + after, 'latin1'), at: Buffer.byteLength(before, 'latin1') };
}

/**
 * The split points: no split, every offset from 4 bytes before the variant to 4 after it
 * (about 12), and every offset inside the real end (`-5` is 5 bytes from the end).
 */
function splits(at: number, length: number): Array<number | null> {
  const out: Array<number | null> = [null];
  for (let i = at - 4; i <= at + length + 4; i++) out.push(i);
  for (let i = -5; i <= -1; i++) out.push(i);
  return out;
}

interface Sent {
  a: string;
  b: string;
  code: number | undefined;
  text: string;
}

/** One session per variant: every split as its own transaction; checks the session stays in step. */
async function runVariant(port: number, local: string, mode: string, name: string, variant: string): Promise<Sent[]> {
  const { c, banner } = await greeted(port, local);
  clients.push(c);
  expect(banner?.code).toBe(220);
  expect((await c.cmd('EHLO smuggler.test'))?.code).toBe(250);
  const sent: Sent[] = [];
  for (const split of splits(smuggling(variant, 'x', 'y').at, Buffer.byteLength(variant, 'latin1'))) {
    const a = `${mode}-${name}-${split ?? 'whole'}-A`;
    const b = `${mode}-${name}-${split ?? 'whole'}-B`;
    const { payload } = smuggling(variant, a, b);
    expect((await c.cmd('MAIL FROM:<a@sender.test>'))?.code).toBe(250);
    expect((await c.cmd('RCPT TO:<b@example.test>'))?.code).toBe(250);
    expect((await c.cmd('DATA'))?.code).toBe(354);
    if (split === null) c.write(payload);
    else {
      const cut = split < 0 ? payload.length + split : split;
      c.write(payload.subarray(0, cut));
      await sleep(8);
      c.write(payload.subarray(cut));
    }
    const r = await c.read(5000);
    sent.push({ a, b, code: r?.code, text: r?.text ?? '' });
    // in step: the next reply is the NOOP's, not one to a smuggled command
    expect(await c.cmd('NOOP'), `${a}: the proxy ran a smuggled command`).toEqual({ code: 250, text: '2.0.0 Ok' });
  }
  await c.cmd('QUIT');
  return sent;
}

async function runAll(mode: string, block: number): Promise<Sent[]> {
  const port = proxy!.address.port;
  const runs = Object.entries(VARIANTS).map(([name, v], i) => runVariant(port, addr(block, i), mode, name, v));
  return (await Promise.all(runs)).flat();
}

/** Only CRLF line ends, no NUL, and no line that is a lone dot (the backend has it unstuffed). */
function expectCleanLines(raw: Buffer, label: string): void {
  const text = raw.toString('latin1');
  expect(text.replace(/\r\n/g, ''), `${label}: bare CR or LF`).not.toMatch(/[\r\n]/);
  expect(text, `${label}: NUL`).not.toContain('\x00');
}

describe('SMTP smuggling', () => {
  it('strict mode refuses every variant at every split with 550 5.6.0; the backend gets nothing', async () => {
    mocks = await backends(1, { lenientDataEnd: true });
    proxy = await proxyFor(mocks, { filters: { strictLineEndings: true }, connections: { errorSoftLimit: 1000, errorHardLimit: 1000 } });
    const sent = await runAll('strict', 90);
    expect(sent.length).toBeGreaterThan(100);
    for (const s of sent) {
      expect(s.code, s.a).toBe(550);
      expect(s.text, s.a).toMatch(/^5\.6\.0 bare CR, bare LF or NUL/);
    }
    expect(mocks[0].received).toHaveLength(0);
    expect(await refusals(proxy, 'bad-line-ending', { stage: 'data', code: '550' })).toBe(sent.length);
  });

  it('normalize mode relays exactly one message per transaction, in CRLF lines, and never B on its own', async () => {
    mocks = await backends(1, { lenientDataEnd: true });
    proxy = await proxyFor(mocks, { filters: { strictLineEndings: false } });
    const sent = await runAll('normalize', 91);
    for (const s of sent) expect(s.code, s.a).toBe(250);
    const received = mocks[0].received;
    expect(received.filter((m) => m.smuggled).map((m) => m.id)).toEqual([]);
    expect(received).toHaveLength(sent.length);
    for (const s of sent) {
      const got = received.filter((m) => m.id === s.a);
      expect(got, s.a).toHaveLength(1);
      expect(got[0].to).toEqual(['b@example.test']);
      expectCleanLines(got[0].raw, s.a);
      // B is still there, but only as text inside A
      expect(got[0].raw.toString('latin1'), s.a).toContain(`X-Attitude-Id: ${s.b}`);
      expect(received.some((m) => m.id === s.b || m.to.includes('victim@example.test'))).toBe(false);
    }
  });

  it.skipIf(toolsMissing('smtp-sink'))('normalize mode through Postfix smtp-sink: exactly one dumped message per transaction', async () => {
    sink = await startSink();
    proxy = await proxyFor([asBackend<MockBackend>('sink', sink.address)], { filters: { strictLineEndings: false } });
    const sent = await runAll('sink', 92);
    for (const s of sent) expect(s.code, s.a).toBe(250);
    expect(await until(() => sink!.dumps().length >= sent.length, 5000)).toBe(true);
    // every session is over at the proxy (and so at the sink) before a second dump is ruled out
    expect(await until(() => drained(proxy!))).toBe(true);
    const dumps = sink.dumps();
    expect(dumps).toHaveLength(sent.length);
    const ids = dumps.map((d) => /^X-Attitude-Id: (\S+)/m.exec(d)?.[1]);
    expect(ids.sort()).toEqual(sent.map((s) => s.a).sort());
    for (const d of dumps) {
      expect(d).not.toContain('X-Rcpt-Args: <victim@example.test>');
      expect(d).toContain('X-Rcpt-Args: <b@example.test>');
    }
  });
});
