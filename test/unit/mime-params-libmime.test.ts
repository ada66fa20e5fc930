// The MIME parameter reader of the filters, pinned against libmime (Nodemailer's, as
// mailparser reads mail) with fast-check: what libmime and nodemailer write (RFC 2047
// words, RFC 2231 continuations) reads back as it was written, by our own splitting
// and assembly alone; and for any header a sender can make up, a name libmime reads
// with a blocked extension gets the message refused by the worm filter.
import fc from 'fast-check';
import libmime from 'libmime';
import { describe, expect, it } from 'vitest';
import { parseHeaderValue } from '../../proxy/filters/mime-params.ts';
import { blockedExtension, wormFilter } from '../../proxy/filters/worm.ts';

const BLOCKED = ['exe', 'scr', 'pif', 'bat', 'com', 'vbs', 'js', 'jar', 'cmd'];

/** Names as a mail client shows them: any Unicode, no control characters (a header cannot carry them). */
const fileName = fc
  .tuple(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }), fc.constantFrom('', '.pdf', '.exe', '.pdf.exe', '.zip'))
  .map(([base, ext]) => base + ext)
  .filter((s) => !/[\p{Cc}]/u.test(s) && s.trim() === s && s !== '');

const quote = (v: string) => `"${v.replace(/[\\"]/g, '\\$&')}"`;

/** What mailparser takes as the file name: the assembled RFC 2231 value, or the plain one with its words decoded. */
function libmimeName(header: string): string | null {
  const parsed = libmime.parseHeaderValue(header);
  const decoded = (parsed as { decodedParams?: string[] }).decodedParams ?? [];
  for (const key of ['filename', 'name']) {
    const v = parsed.params[key];
    if (typeof v === 'string' && v !== '') return decoded.includes(key) ? v : libmime.decodeWords(v);
  }
  return null;
}

describe('MIME parameters against libmime', () => {
  it('reads RFC 2047 words as nodemailer writes them into a quoted filename, by itself', () => {
    fc.assert(
      fc.property(fileName, fc.constantFrom('B', 'Q'), fc.integer({ min: 12, max: 76 }), (name, encoding, maxLength) => {
        const header = `attachment; filename=${quote(libmime.encodeWords(name, encoding, maxLength))}`;
        expect(libmimeName(header)).toBe(name);
        // our reading alone: libmime's is only added when it says something else
        expect(parseHeaderValue(header).params).toEqual([['filename', name]]);
      }),
      { numRuns: 300 },
    );
  });

  it('assembles RFC 2231 continuations as libmime builds them, by itself', () => {
    fc.assert(
      fc.property(fileName, fc.integer({ min: 4, max: 60 }), (name, maxLength) => {
        const params: Record<string, string> = {};
        for (const p of libmime.buildHeaderParam('filename', name, maxLength)) params[p.key] = p.value;
        const header = libmime.buildHeaderValue({ value: 'attachment', params });
        expect(libmimeName(header)).toBe(name);
        const ours = parseHeaderValue(header).params;
        expect(ours).toHaveLength(1);
        expect(ours[0][1]).toBe(name);
      }),
      { numRuns: 300 },
    );
  });

  it('decodes RFC 2231 percent-encoding in ISO-8859-1 as libmime does', () => {
    const latin1 = fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c < 0x7f || c > 0x9f).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 30 });
    fc.assert(
      fc.property(latin1, (name) => {
        const encoded = [...Buffer.from(name, 'latin1')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
        const header = `attachment; filename*=iso-8859-1'de'${encoded}`;
        expect(libmimeName(header)).toBe(name);
        expect(parseHeaderValue(header).params).toEqual([['filename*', name]]);
      }),
      { numRuns: 200 },
    );
  });

  /** Pieces a sender can put into a Content-Disposition to hide a name from one reader but not another. */
  const piece = fc.oneof(
    fc.constantFrom('invoice', '.pdf', '.', 'exe', '.exe', 'scr', ' ', '"', '\\', ';', '=', '%2E', '%2e', '%', "utf-8''", "iso-8859-1'en'", '*', '_', '?'),
    fc.constantFrom('=?utf-8?Q?', '=?UTF-8?B?', '=?iso-8859-1?q?', '?=', '=2E', 'aW52b2ljZS5', 'leGU=', 'LmV4ZQ==', 'ZXhl'),
    fc.string({ maxLength: 4 }),
  );
  const value = fc.array(piece, { maxLength: 8 }).map((p) => p.join(''));
  const param = fc.tuple(fc.constantFrom('filename', 'name', 'FileName', 'filename*', 'filename*0', 'filename*0*', 'filename*1', 'filename*1*', 'filename*2', 'name*'), value, fc.boolean()).map(([k, v, q]) => `${k}=${q ? quote(v) : v}`);
  const header = fc.array(param, { minLength: 1, maxLength: 4 }).map((ps) => `attachment; ${ps.join('; ')}`);

  it('refuses every message in which libmime reads a blocked name, whatever the header', () => {
    const blocked = new Set(BLOCKED);
    fc.assert(
      fc.property(header, (disposition) => {
        const name = libmimeName(disposition);
        const ext = name === null ? null : blockedExtension(name, blocked);
        fc.pre(ext !== null);
        const run = wormFilter({ blockedExtensions: BLOCKED, eicar: false }).start({ envelope: { from: 'a@x.test', to: ['b@x.test'] }, clientIp: '192.0.2.1' });
        const message = `Content-Type: multipart/mixed; boundary=s\r\n\r\n--s\r\nContent-Type: application/octet-stream\r\nContent-Disposition: ${disposition}\r\n\r\nAAAA\r\n--s--\r\n`;
        run.write(Buffer.from(message, 'utf8'));
        expect(run.end(), `${disposition} -> ${name}`).toMatchObject({ action: 'refuse', reason: 'worm-attachment' });
      }),
      { numRuns: 2000 },
    );
  });
});
