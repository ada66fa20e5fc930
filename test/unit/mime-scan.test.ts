import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEncodedWords, parseHeaderValue } from '../../proxy/filters/mime-params.ts';
import { LineSplitter, MAX_DEPTH, MAX_LINE, MimeScanner, type PartInfo } from '../../proxy/filters/mime-scan.ts';
import { cutAt } from '../helpers/chunks.ts';

function scan(message: string, chunkSize = 0, bodyLines = false) {
  const names: string[] = [];
  const headers: Array<[string, string, number]> = [];
  const parts: PartInfo[] = [];
  const bodies: string[] = [];
  let ended = 0;
  const scanner = new MimeScanner({
    fileName: (n) => names.push(n),
    header: (n, v, d) => headers.push([n, v, d]),
    partStart: (p) => {
      parts.push({ ...p });
      bodies.push('');
    },
    body: (piece) => (bodies[bodies.length - 1] += piece.toString('latin1')),
    partEnd: () => ended++,
    bodyLines,
  });
  const data = Buffer.from(message.replace(/\n/g, '\r\n'), 'utf8');
  if (chunkSize === 0) scanner.write(data);
  else for (let i = 0; i < data.length; i += chunkSize) scanner.write(data.subarray(i, i + chunkSize));
  scanner.end();
  return { names, headers, parts, bodies, ended, limits: scanner.limits };
}

const multipart = (parts: string[], boundary = 'b1', head = '') =>
  `${head}Content-Type: multipart/mixed; boundary="${boundary}"\n\npreamble\n${parts.map((p) => `--${boundary}\n${p}\n`).join('')}--${boundary}--\nepilogue\n`;

describe('parseHeaderValue', () => {
  it('reads quoted, unquoted and escaped parameters', () => {
    expect(parseHeaderValue('attachment; filename="a; b.exe"; size=10')).toEqual({
      value: 'attachment',
      params: [
        ['filename', 'a; b.exe'],
        ['size', '10'],
      ],
    });
    expect(parseHeaderValue('text/plain; NAME=x.txt; q="a\\"b"').params).toEqual([
      ['name', 'x.txt'],
      ['q', 'a"b'],
    ]);
  });

  it('decodes RFC 2231 encoded, continued and mixed parameters', () => {
    expect(parseHeaderValue("attachment; filename*=utf-8''invoice.pdf%2Eexe").params).toEqual([['filename*', 'invoice.pdf.exe']]);
    expect(parseHeaderValue('attachment; filename*0="inv"; filename*1="oice.e"; filename*2=xe').params).toEqual([['filename*', 'invoice.exe']]);
    expect(parseHeaderValue("attachment; filename*1*=%2Eexe; filename*0*=iso-8859-1'en'r%E9sum%E9").params).toEqual([['filename*', 'résumé.exe']]);
  });

  it('decodes RFC 2047 words, B and Q, joining adjacent ones', () => {
    expect(decodeEncodedWords('=?UTF-8?B?aW52b2ljZS5leGU=?=')).toBe('invoice.exe');
    expect(decodeEncodedWords('=?utf-8?Q?invoice=2Epdf?= =?utf-8?q?=2Eexe?=')).toBe('invoice.pdf.exe');
    expect(decodeEncodedWords('=?iso-8859-1*fr?Q?caf=E9_au_lait?=')).toBe('café au lait');
    expect(decodeEncodedWords('plain text')).toBe('plain text');
    expect(parseHeaderValue('application/octet-stream; name="=?UTF-8?B?eC5leGU=?="').params).toEqual([['name', 'x.exe']]);
  });

  // two ways past the hand-written decoder that libmime (and mailparser's readers) do not allow
  it('joins base64 words split inside a quantum, and reads words in unencoded continuations', () => {
    expect(decodeEncodedWords('=?utf-8?B?aW52b2ljZS5?= =?utf-8?B?leGU=?=')).toBe('invoice.exe');
    expect(decodeEncodedWords('=?utf-8?B?w6k=?==?utf-8?B?w6k=?=')).toBe('éé');
    const continued = parseHeaderValue('attachment; filename*0="=?utf-8?Q?invoice=2E?="; filename*1="exe"').params;
    expect(continued).toContainEqual(['filename*', 'invoice.exe']);
    // the text as written stays a variant: a client that does not decode the word sees that
    expect(continued).toContainEqual(['filename*', '=?utf-8?Q?invoice=2E?=exe']);
  });

  it("adds libmime's reading where it differs: the extended value, the first of two plain ones", () => {
    expect(parseHeaderValue("attachment; filename=a.exe; filename*=utf-8''a.pdf").params).toEqual([
      ['filename', 'a.exe'],
      ['filename*', 'a.pdf'],
    ]);
    expect(parseHeaderValue('attachment; filename=a.pdf; filename=b.exe').params).toEqual([
      ['filename', 'a.pdf'],
      ['filename', 'b.exe'],
    ]);
  });
});

describe('MimeScanner', () => {
  it('finds names in Content-Type and Content-Disposition of every part', () => {
    const msg = multipart([
      'Content-Type: text/plain\n\nhello',
      'Content-Type: application/pdf; name=report.pdf\nContent-Disposition: attachment; filename="report.pdf"\nContent-Transfer-Encoding: base64\n\nJVBERi0=',
      "Content-Type: application/octet-stream\nContent-Disposition: attachment;\n filename*=utf-8''invoice.pdf%2Eexe\n\nxx",
    ], 'b1', 'Subject: hi\n');
    const r = scan(msg);
    expect(r.names).toEqual(['report.pdf', 'report.pdf', 'invoice.pdf.exe']);
    expect(r.parts.map((p) => [p.contentType, p.encoding])).toEqual([
      ['text/plain', '7bit'],
      ['application/pdf', 'base64'],
      ['application/octet-stream', '7bit'],
    ]);
    expect(r.bodies.map((b) => b.trim())).toEqual(['hello', 'JVBERi0=', 'xx']);
    expect(r.ended).toBe(3);
  });

  it('unfolds headers and reports them with their depth', () => {
    const r = scan(multipart(['Content-Type: text/plain\nX-Part: 1\n\nbody'], 'zz', 'Subject: a\n  folded\n\tline\n'));
    expect(r.headers).toContainEqual(['Subject', 'a  folded\tline', 0]);
    expect(r.headers).toContainEqual(['X-Part', '1', 1]);
  });

  it('walks nested multiparts and attached messages', () => {
    const inner = multipart(['Content-Type: application/x-msdownload; name="deep.exe"\n\nMZ'], 'inner');
    const attached = `Content-Type: message/rfc822\n\nSubject: fwd\n${multipart(['Content-Disposition: attachment; filename=fwd.scr\n\nx'], 'fwd')}`;
    const r = scan(multipart([inner.trimEnd(), attached.trimEnd(), 'Content-Type: text/plain\n\nafter'], 'outer'));
    expect(r.names).toEqual(['deep.exe', 'fwd.scr']);
    expect(r.headers).toContainEqual(['Subject', 'fwd', 2]);
    expect(r.bodies.map((b) => b.trim())).toEqual(['MZ', 'x', 'after']);
  });

  it('does not take preamble, epilogue or boundary lines for body', () => {
    const r = scan(multipart(['\nonly']));
    expect(r.bodies.join('')).not.toContain('preamble');
    expect(r.bodies.join('')).not.toContain('epilogue');
    expect(r.bodies.join('')).not.toContain('--b1');
  });

  it('accepts transport padding after a boundary but not other text', () => {
    const msg = 'Content-Type: multipart/mixed; boundary=x\n\n--x  \nContent-Type: text/plain; name=a.txt\n\n--xy\nstill body\n--x--\n';
    const r = scan(msg);
    expect(r.names).toEqual(['a.txt']);
    expect(r.bodies[0]).toContain('--xy');
  });

  it('finds uuencode and yEnc file names in text bodies', () => {
    const r = scan('Subject: x\n\nhere:\nbegin 644 payload.exe\nM````\nend\n=ybegin line=128 size=3 name=other.scr\n');
    expect(r.names).toEqual(['payload.exe', 'other.scr']);
  });

  it('finds them in a body taken a run of lines at a time as line by line, at line starts only', () => {
    const msg = `Subject: x\n\nbegin 644 first.exe\nsee: begin 644 not-this.exe\n${'y'.repeat(MAX_LINE + 10)}\n=ybegin line=128 name=second.scr\nx=ybegin name=nor-this.scr\nbegin 644 third.pif\n`;
    const whole = scan(msg);
    expect(whole.names).toEqual(['first.exe', 'second.scr', 'third.pif']);
    expect(scan(msg, 0, true)).toEqual(whole);
    for (const size of [1, 7, 64, 5000]) expect(scan(msg, size)).toEqual(whole);
  });

  it('gives the same parts, names and bodies in runs as line by line, however cut (property)', () => {
    const lines = ['begin 644 a.exe', '=ybegin size=3 name=b.scr', 'x begin 644 c.exe', 'plain text', '', '.', 'a\rbegin 644 d.exe', 'z'.repeat(MAX_LINE + 3)];
    const heads = ['Subject: s\n', 'Content-Type: text/plain\n', 'Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n', 'Content-Type: image/png\n'];
    fc.assert(
      fc.property(fc.constantFrom(...heads), fc.array(fc.constantFrom(...lines), { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 6 }), (head, body, cuts) => {
        const msg = `${head}\n${body.join('\n')}\n`;
        const byLine = scan(msg, 0, true);
        expect(scan(msg)).toEqual(byLine);
        const data = Buffer.from(msg.replace(/\n/g, '\r\n'), 'utf8');
        const names: string[] = [];
        let bodyText = '';
        const scanner = new MimeScanner({ fileName: (n) => names.push(n), body: (p) => (bodyText += p.toString('latin1')) });
        for (const c of cutAt(data, cuts)) scanner.write(c);
        scanner.end();
        expect(names).toEqual(byLine.names);
        expect(bodyText).toEqual(byLine.bodies[0]);
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same result for every chunk size', () => {
    const msg = multipart(['Content-Disposition: attachment;\n\tfilename*0*=utf-8\'\'a%2E; filename*1=exe\n\nbody', 'Content-Type: text/plain; name="=?UTF-8?Q?b=2Escr?="\n\nz']);
    const whole = scan(msg);
    expect(whole.names).toEqual(['a.exe', 'b.scr']);
    for (const size of [1, 2, 3, 7, 64]) expect(scan(msg, size)).toEqual(whole);
  });

  it('caps a header at MAX_LINE and records it for Content-* headers', () => {
    const pad = 'x'.repeat(MAX_LINE);
    const r = scan(`Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Disposition: attachment; junk="${pad}"; filename=late.exe\n\nx\n--b--\n`);
    expect(r.names).not.toContain('late.exe');
    expect(r.limits.has('header-too-long')).toBe(true);
    expect(scan(`Subject: ${pad}\n\nbody`).limits.size).toBe(0);
  });

  it('tracks at most MAX_DEPTH nested multiparts and records when it is exceeded', () => {
    let msg = 'Content-Type: text/plain; name=leaf.txt\n\nleaf\n';
    for (let i = 0; i <= MAX_DEPTH; i++) msg = multipart([msg.trimEnd()], `d${i}`);
    const r = scan(msg);
    expect(r.limits.has('too-deep')).toBe(true);
    const ok = scan(multipart([multipart(['Content-Type: text/plain; name=leaf.txt\n\nleaf'], 'i').trimEnd()], 'o'));
    expect(ok.names).toEqual(['leaf.txt']);
    expect(ok.limits.size).toBe(0);
  });
});

describe('LineSplitter', () => {
  it('hands a long line on in pieces of at most maxPiece bytes', () => {
    const pieces: Array<[string, boolean, boolean]> = [];
    const s = new LineSplitter((p, start, end) => pieces.push([p.toString(), start, end]), 4);
    s.write(Buffer.from('ab\nabcdefghij\nxy'));
    s.end();
    expect(pieces).toEqual([
      ['ab\n', true, true],
      ['abcd', true, false],
      ['efgh', false, false],
      ['ij\n', false, true],
      ['xy', true, true],
    ]);
  });

  it('gives the same pieces however the input is split into chunks (property)', () => {
    const pieces = (chunks: Buffer[]) => {
      const out: Array<[string, boolean, boolean]> = [];
      const s = new LineSplitter((p, start, end) => out.push([p.toString('latin1'), start, end]), 4);
      for (const c of chunks) s.write(Buffer.from(c)); // a copy: the splitter must not keep views of a reused chunk
      s.end();
      return out;
    };
    const bytes = fc.array(fc.constantFrom(0x61, 0x62, 0x0d, 0x0a), { maxLength: 60 });
    fc.assert(
      fc.property(bytes, fc.array(fc.nat(60), { maxLength: 5 }), (data, cuts) => {
        const buf = Buffer.from(data);
        expect(pieces(cutAt(buf, cuts))).toEqual(pieces([buf]));
      }),
      { numRuns: 300 },
    );
  });
});
