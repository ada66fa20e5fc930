// The DATA payload reader: only CRLF.CRLF ends a message, a line-start dot is
// dropped, and any split of the same bytes gives the same message and the same rest.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataReader } from '../../proxy/smtp/data-reader.ts';
import { VARIANT_BYTES } from '../../simulator/actors/smuggler.ts';
import { cutAt } from '../helpers/chunks.ts';

/** Feeds the chunks; the message, and the bytes after its end (null: no end seen). */
function read(chunks: Buffer[]): { message: string; rest: string | null } {
  const reader = new DataReader();
  const out: Buffer[] = [];
  let rest: Buffer[] | null = null;
  for (const chunk of chunks) {
    if (rest) rest.push(chunk);
    else {
      const after = reader.feed(chunk, out);
      if (after) rest = [after];
    }
  }
  return { message: Buffer.concat(out).toString('latin1'), rest: rest ? Buffer.concat(rest).toString('latin1') : null };
}

/** The same, written the obvious way on the whole input. */
function reference(input: string): { message: string; rest: string | null } {
  const s = '\r\n' + input;
  const end = s.indexOf('\r\n.\r\n');
  const body = end < 0 ? s : s.slice(0, end + 2);
  const unstuffed = body.replace(/\r\n\./g, '\r\n').slice(2);
  if (end < 0) return { message: unstuffed, rest: null };
  return { message: unstuffed, rest: s.slice(end + 5) };
}

const bytes = (s: string) => Buffer.from(s, 'latin1');

describe('DataReader', () => {
  it('ends at CRLF.CRLF, keeps the last line ending, and hands back what follows', () => {
    expect(read([bytes('Subject: x\r\n\r\nhello\r\n.\r\nQUIT\r\n')])).toEqual({ message: 'Subject: x\r\n\r\nhello\r\n', rest: 'QUIT\r\n' });
  });

  it('takes an empty message', () => {
    expect(read([bytes('.\r\nNOOP\r\n')])).toEqual({ message: '', rest: 'NOOP\r\n' });
  });

  it('drops the dot that starts a line, also on the first line', () => {
    expect(read([bytes('..first\r\n..\r\n...x\r\n.\r\n')])).toEqual({ message: '.first\r\n.\r\n..x\r\n', rest: '' });
  });

  it.each(Object.entries(VARIANT_BYTES))('never ends at the smuggling variant %s', (_name, variant) => {
    const input = Buffer.concat([bytes('Subject: a\r\n\r\nbody'), Buffer.from(variant), bytes('MAIL FROM:<x@y>\r\n')]);
    expect(read([input]).rest).toBeNull();
  });

  it('gives the same message and rest however the bytes are split (property)', () => {
    const alphabet = fc.constantFrom('\r', '\n', '.', 'a', '\r\n', '\r\n.', '\r\n.\r\n', '\0');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 40 }), fc.array(fc.nat(), { maxLength: 8 }), (parts, cuts) => {
        const input = parts.join('');
        const got = read(cutAt(bytes(input), cuts));
        const want = reference(input);
        if (want.rest !== null) return void expect(got).toEqual(want);
        // no end yet: what may still start a final dot (up to "\r\n.\r") is held back
        expect(got.rest).toBeNull();
        expect(want.message.startsWith(got.message)).toBe(true);
        expect(want.message.length - got.message.length).toBeLessThanOrEqual(4);
      }),
      { numRuns: 3000 },
    );
  });
});
