import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DotStuffer } from '../../proxy/stages/dot-stuff.ts';
import { LineEndingGuard, type LineEndingMode } from '../../proxy/stages/line-endings.ts';
import { SizeGuard } from '../../proxy/stages/size-guard.ts';
import { runStages, type Stage } from '../../proxy/stages/stage.ts';
import { cutAt } from '../helpers/chunks.ts';
import { VARIANT_BYTES } from '../../simulator/actors/smuggler.ts';

interface Outcome {
  out: Buffer;
  error: (Error & { reason?: string; reply?: { code: number } }) | null;
}

/** What the stages pass on for these chunks, up to the first refusal. */
function run(chunks: Buffer[], stages: Stage[]): Outcome {
  const got: Buffer[] = [];
  let error: Outcome['error'] = null;
  try {
    for (const chunk of [...chunks, null]) got.push(...runStages(stages, chunk));
  } catch (err) {
    error = err as Outcome['error'];
  }
  return { out: Buffer.concat(got), error };
}

function splits(data: Buffer): Buffer[][] {
  const out: Buffer[][] = [];
  for (let i = 0; i <= data.length; i++) out.push([data.subarray(0, i), data.subarray(i)]);
  out.push([...data].map((b) => Buffer.from([b])));
  return out;
}

/** Every line ends in CRLF: no CR without LF after it, no LF without CR before it. */
function onlyCrlf(buf: Buffer): boolean {
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 0x0d && buf[i + 1] !== 0x0a) return false;
    if (buf[i] === 0x0a && buf[i - 1] !== 0x0d) return false;
  }
  return true;
}

/** What goes to the backend after the CRLF of the DATA command: stuffed output, CRLF if needed, the final dot. */
function wire(out: Buffer, stuffer: DotStuffer): string {
  return '\r\n' + out.toString('latin1') + (stuffer.endsWithCrlf() ? '' : '\r\n') + '.\r\n';
}

/**
 * `chunks` normalized and dot-stuffed as the proxy relays them, checked for what any
 * backend must see: CRLF lines only, no NUL, one end of data at the very end.
 */
function relayed(chunks: Buffer[]): { out: Buffer; sent: string } {
  const stuffer = new DotStuffer();
  const { out, error } = run(chunks, [new LineEndingGuard('normalize'), stuffer]);
  expect(error).toBeNull();
  expect(onlyCrlf(out)).toBe(true);
  expect(out.includes(0)).toBe(false);
  const sent = wire(out, stuffer);
  expect(sent.indexOf('\r\n.\r\n')).toBe(sent.length - 5);
  return { out, sent };
}

// SEC Consult's end-of-data variants, and NUL ones, as smtp-server would hand them over
const VARIANTS = [...Object.values(VARIANT_BYTES), '\n\x00.\n', '\r\n.\r\r\n'];

function smuggle(variant: string): Buffer {
  const text = `From: a@example.test\r\nSubject: hi\r\n\r\nhello${variant}MAIL FROM:<evil@x.test>\r\nRCPT TO:<victim@example.test>\r\nDATA\r\nsmuggled\r\n`;
  return Buffer.from(text, 'latin1');
}

describe('LineEndingGuard strict', () => {
  it('passes CRLF-only data unchanged, at any split', () => {
    const data = Buffer.from('a\r\n\r\n.b\r\nend\r\n');
    for (const chunks of splits(data)) {
      const { out, error } = run(chunks, [new LineEndingGuard('strict')]);
      expect(error).toBeNull();
      expect(out.equals(data)).toBe(true);
    }
  });

  it.each(VARIANTS.map((v) => [JSON.stringify(v), v]))('refuses %s at every split and lets no bad byte through', (_name, variant) => {
    const data = smuggle(variant);
    for (const chunks of splits(data)) {
      const { out, error } = run(chunks, [new LineEndingGuard('strict')]);
      expect(error?.reason).toBe('bad-line-ending');
      expect(error?.reply?.code).toBe(550);
      expect(onlyCrlf(out)).toBe(true);
      expect(out.includes(0)).toBe(false);
      expect(data.subarray(0, out.length).equals(out)).toBe(true);
    }
  });

  it('refuses a bare CR as the very last byte', () => {
    expect((run([Buffer.from('abc\r\n'), Buffer.from('x\r')], [new LineEndingGuard('strict')])).error?.reason).toBe('bad-line-ending');
  });
});

describe('LineEndingGuard normalize + DotStuffer', () => {
  it('turns bare CR and bare LF into CRLF and drops NUL', () => {
    const { out } = run([Buffer.from('a\rb\nc\r\r\nd\x00e\r\n')], [new LineEndingGuard('normalize')]);
    expect(out.toString('latin1')).toBe('a\r\nb\r\nc\r\n\r\nde\r\n');
  });

  it('joins a CR at the end of one chunk with an LF at the start of the next', () => {
    const { out } = run([Buffer.from('a\r'), Buffer.from('\nb\r'), Buffer.from(''), Buffer.from('\n')], [new LineEndingGuard('normalize')]);
    expect(out.toString('latin1')).toBe('a\r\nb\r\n');
  });

  it('turns a CR left at the end into CRLF', () => {
    const { out } = run([Buffer.from('a\r')], [new LineEndingGuard('normalize')]);
    expect(out.toString('latin1')).toBe('a\r\n');
  });

  it.each(VARIANTS.map((v) => [JSON.stringify(v), v]))('defuses %s at every split: the backend sees exactly one message', (_name, variant) => {
    const data = smuggle(variant);
    let first: string | null = null;
    for (const chunks of splits(data)) {
      const { sent } = relayed(chunks);
      // not even a lenient backend finds a dot alone between line breaks
      expect(/[\r\n]\.[\r\n]/.test(sent.slice(0, -5))).toBe(false);
      first ??= sent;
      expect(sent).toBe(first); // the same bytes whatever the split
    }
  });

  it('random bytes in normalize mode: only CRLF lines and no end-of-data inside (property)', () => {
    const alphabet = fc.constantFrom(...'\r\n.\x00ab'.split('').map((c) => c.charCodeAt(0)));
    fc.assert(
      fc.property(fc.array(fc.oneof(alphabet, fc.integer({ min: 0, max: 255 })), { maxLength: 200 }), fc.array(fc.nat(200), { maxLength: 6 }), (bytes, cuts) => {
        const data = Buffer.from(bytes);
        const { out } = relayed(cutAt(data, cuts));
        // unstuffing gives back the normalized message
        const normalized = (run([data], [new LineEndingGuard('normalize')])).out.toString('latin1');
        const unstuffed = ('\r\n' + out.toString('latin1')).replace(/\r\n\.\./g, '\r\n.').slice(2);
        expect(unstuffed).toBe(normalized);
      }),
      { numRuns: 300 },
    );
  });
});

describe('DotStuffer', () => {
  it('doubles a dot at the start of every line, the message start included', () => {
    const { out } = run([Buffer.from('.\r\nx.y\r\n..z\r\n.')], [new DotStuffer()]);
    expect(out.toString()).toBe('..\r\nx.y\r\n...z\r\n..');
  });

  it('sees a line start across a chunk split', () => {
    const { out } = run([Buffer.from('a\r\n'), Buffer.from('.b\r'), Buffer.from('\n.'), Buffer.from('c')], [new DotStuffer()]);
    expect(out.toString()).toBe('a\r\n..b\r\n..c');
  });

  it('tells whether the output ended with CRLF', () => {
    const cases: Array<[string[], boolean]> = [
      [[], true],
      [['abc\r\n'], true],
      [['abc'], false],
      [['abc\r'], false],
      [['abc\r', '\n'], true],
      [['abc\n'], false],
    ];
    for (const [chunks, expected] of cases) {
      const s = new DotStuffer();
      run(chunks.map((c) => Buffer.from(c)), [s]);
      expect(s.endsWithCrlf(), JSON.stringify(chunks)).toBe(expected);
    }
  });
});

describe('SizeGuard', () => {
  it('passes a message of exactly maxSize', () => {
    const g = new SizeGuard(10);
    const { out, error } = run([Buffer.alloc(4), Buffer.alloc(6)], [g]);
    expect(error).toBeNull();
    expect(out.length).toBe(10);
    expect(g.bytes).toBe(10);
  });

  it('fails as soon as one byte more arrives, without passing the chunk that crossed', () => {
    const { out, error } = run([Buffer.alloc(6), Buffer.alloc(5), Buffer.alloc(100)], [new SizeGuard(10)]);
    expect(error?.reason).toBe('message-too-large');
    expect(error?.reply?.code).toBe(552);
    expect(out.length).toBe(6);
  });
});
