import { describe, expect, it } from 'vitest';
import type { FilterVerdict } from '../../proxy/filters/filter.ts';
import { ARCHIVE_HEADER, blockedExtension, EICAR, wormFilter, type ArchiveOptions, type WormOptions } from '../../proxy/filters/worm.ts';
import { zip } from '../helpers/zip.ts';

const BLOCKED = ['exe', 'scr', 'pif', 'bat', 'com', 'vbs', 'js', 'jar', 'cmd'];
const ctx = { envelope: { from: 'a@example.test', to: ['b@example.test'] }, clientIp: '192.0.2.1' };

function check(message: string | Buffer, chunks: number[] | 'bytes' = [], options: WormOptions = { blockedExtensions: BLOCKED, eicar: true }): FilterVerdict {
  const data = typeof message === 'string' ? Buffer.from(message.replace(/\r?\n/g, '\r\n'), 'latin1') : message;
  const run = wormFilter(options).start(ctx);
  if (chunks === 'bytes') for (const b of data) run.write(Buffer.from([b]));
  else {
    let prev = 0;
    for (const c of [...chunks, data.length]) {
      run.write(data.subarray(prev, c));
      prev = c;
    }
  }
  return run.end();
}

const attachment = (disposition: string, body = 'AAAA', type = 'application/octet-stream') =>
  `From: a@example.test\nSubject: files\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="sep"\n\n--sep\nContent-Type: text/plain\n\nsee attached\n--sep\nContent-Type: ${type}\n${disposition}\nContent-Transfer-Encoding: base64\n\n${body}\n--sep--\n`;

describe('blockedExtension', () => {
  const set = new Set(BLOCKED);
  it.each([
    ['virus.exe', 'exe'],
    ['invoice.pdf.exe', 'exe'],
    ['INVOICE.PDF.EXE', 'exe'],
    ['x.exe.', 'exe'],
    ['x.exe. . ', 'exe'],
    ['screen.Scr', 'scr'],
    ['C:\\temp\\run.bat', 'bat'],
    ['dir/sub/app.jar', 'jar'],
    ['run.exe\u0000.txt', 'exe'],
  ])('%s is blocked (.%s)', (name, ext) => {
    expect(blockedExtension(name, set)).toBe(ext);
  });

  it.each(['report.pdf', 'invoice.exe.pdf', 'exe', 'notes.txt', 'archive.exe.zip', 'readme'])('%s passes', (name) => {
    expect(blockedExtension(name, set)).toBeNull();
  });
});

describe('worm filter: attachments', () => {
  it.each([
    ['plain filename', 'Content-Disposition: attachment; filename=update.exe'],
    ['quoted filename', 'Content-Disposition: attachment; filename="update.pdf.exe"'],
    ['trailing dot', 'Content-Disposition: attachment; filename="update.exe."'],
    ['RFC 2231 encoded', "Content-Disposition: attachment; filename*=utf-8''invoice.pdf%2Eexe"],
    ['RFC 2231 continued', 'Content-Disposition: attachment; filename*0="invoice.p"; filename*1="df.e"; filename*2="xe"'],
    ['RFC 2231 continued+encoded', "Content-Disposition: attachment; filename*0*=utf-8''inv; filename*1*=oice%2Escr"],
    ['RFC 2047 B', 'Content-Disposition: attachment; filename="=?UTF-8?B?aW52b2ljZS5leGU=?="'],
    ['RFC 2047 Q', 'Content-Disposition: attachment; filename="=?utf-8?Q?invoice=2Epdf=2Ecmd?="'],
    ['folded header', 'Content-Disposition: attachment;\n\tfilename=\n "payload.vbs"'],
    ['name only in Content-Type', 'X-Nothing: 1'],
  ])('refuses a blocked name: %s', (_label, disposition) => {
    const message = _label === 'name only in Content-Type' ? attachment(disposition, 'AAAA', 'application/octet-stream; name="loader.js"') : attachment(disposition);
    const v = check(message);
    expect(v).toMatchObject({ action: 'refuse', reason: 'worm-attachment' });
    expect(check(message, 'bytes')).toEqual(v);
  });

  it('accepts harmless attachments and says nothing', () => {
    expect(check(attachment('Content-Disposition: attachment; filename="report.pdf"'))).toEqual({ action: 'accept' });
    expect(check(attachment("Content-Disposition: attachment; filename*=utf-8''exe.pdf"))).toEqual({ action: 'accept' });
  });

  it('uses the configured list, with or without leading dots', () => {
    const msg = attachment('Content-Disposition: attachment; filename=tool.ps1');
    expect(check(msg)).toEqual({ action: 'accept' });
    expect(check(msg, [], { blockedExtensions: ['.PS1'], eicar: false })).toMatchObject({ reason: 'worm-attachment' });
  });

  it('refuses a message whose MIME headers are too long to check, when extensions are blocked', () => {
    const msg = attachment(`Content-Disposition: attachment; pad="${'x'.repeat(9000)}"; filename=late.exe`);
    expect(check(msg)).toMatchObject({ reason: 'worm-attachment', detail: expect.stringContaining('header-too-long') });
    expect(check(msg, [], { blockedExtensions: [], eicar: true })).toEqual({ action: 'accept' });
  });
});

describe('worm filter: EICAR', () => {
  const text = `Subject: test\n\nline before\n${EICAR.toString('latin1')}\nline after\n`;
  const raw = Buffer.from(text.replace(/\n/g, '\r\n'), 'latin1');

  it('finds the signature in the raw stream at every split', () => {
    for (let i = 0; i <= raw.length; i++) expect(check(raw, [i]), `split ${i}`).toMatchObject({ action: 'refuse', reason: 'eicar' });
    expect(check(raw, 'bytes')).toMatchObject({ reason: 'eicar' });
  });

  it('finds the signature inside a base64 attachment at every split', () => {
    const b64 = Buffer.concat([Buffer.from('some prefix bytes '), EICAR, Buffer.from(' trailer')])
      .toString('base64')
      .replace(/(.{20})/g, '$1\n');
    const msg = Buffer.from(attachment('Content-Disposition: attachment; filename=eicar.com.txt', b64).replace(/\n/g, '\r\n'), 'latin1');
    expect(msg.includes(EICAR)).toBe(false);
    for (let i = 0; i <= msg.length; i += 1) expect(check(msg, [i]), `split ${i}`).toMatchObject({ reason: 'eicar' });
    expect(check(msg, 'bytes')).toMatchObject({ reason: 'eicar' });
    for (const [a, b] of [[10, 200], [300, 301], [350, 420]]) expect(check(msg, [a, b])).toMatchObject({ reason: 'eicar' });
  });

  it('does not match a near miss or the signature split over two attachments', () => {
    const near = Buffer.from(EICAR);
    near[10] = 0x41;
    expect(check(`Subject: x\n\n${near.toString('latin1')}\n`)).toEqual({ action: 'accept' });
    const half = EICAR.length >> 1;
    const a = EICAR.subarray(0, half).toString('base64');
    const b = EICAR.subarray(half).toString('base64');
    const msg = `Content-Type: multipart/mixed; boundary=s\n\n--s\nContent-Transfer-Encoding: base64\n\n${a}\n--s\nContent-Transfer-Encoding: base64\n\n${b}\n--s--\n`;
    expect(check(msg)).toEqual({ action: 'accept' });
  });

  it('is off when eicar is false', () => {
    expect(check(raw, [], { blockedExtensions: BLOCKED, eicar: false })).toEqual({ action: 'accept' });
  });
});

describe('worm filter: ZIP archives', () => {
  const ARCHIVES: ArchiveOptions = { maxDepth: 2, maxEntries: 1000, maxBytes: 50 * 1024 * 1024, unreadable: 'refuse' };
  const options = (archives: Partial<ArchiveOptions> | null = {}): WormOptions => ({ blockedExtensions: BLOCKED, eicar: true, archives: archives && { ...ARCHIVES, ...archives } });
  const b64 = (b: Buffer) => b.toString('base64').replace(/.{76}/g, '$&\n');
  const zipped = (archive: Buffer, disposition = 'Content-Disposition: attachment; filename="invoice.zip"', type = 'application/octet-stream') => attachment(disposition, b64(archive), type);

  it('refuses a blocked name inside a zip attachment, naming the archive and the entry', () => {
    const msg = zipped(zip({ 'invoice.pdf.exe': 'MZ fake', 'readme.txt': 'hello' }));
    const v = check(msg, [], options());
    expect(v).toEqual({ action: 'refuse', reason: 'worm-attachment', detail: 'attachment "invoice.zip > invoice.pdf.exe" (.exe)' });
    expect(check(msg, 'bytes', options())).toEqual(v);
    // today's behaviour without the archive scan: it passes
    expect(check(msg, [], options(null))).toEqual({ action: 'accept' });
  });

  it('looks into a part the type says is a zip, whatever its name, and a zip in a zip', () => {
    const msg = zipped(zip({ 'docs.zip': zip({ 'tool.scr': 'x' }) }), 'Content-Disposition: attachment; filename="files.dat"', 'application/x-zip-compressed');
    expect(check(msg, [], options())).toMatchObject({ reason: 'worm-attachment', detail: 'attachment "files.dat > docs.zip > tool.scr" (.scr)' });
  });

  it('reads a quoted-printable zip too', () => {
    const archive = zip({ 'run.bat': 'echo' });
    const tokens = [...archive].map((c) => (c >= 33 && c <= 126 && c !== 61 ? String.fromCharCode(c) : `=${c.toString(16).toUpperCase().padStart(2, '0')}`));
    // soft line breaks between escapes, never inside one
    const qp = Array.from({ length: Math.ceil(tokens.length / 20) }, (_, i) => tokens.slice(i * 20, i * 20 + 20).join('')).join('=\n');
    const msg = `Content-Type: multipart/mixed; boundary=s\n\n--s\nContent-Type: application/zip; name=a.zip\nContent-Transfer-Encoding: quoted-printable\n\n${qp}\n--s--\n`;
    expect(check(msg, [], options())).toMatchObject({ reason: 'worm-attachment', detail: 'attachment "a.zip > run.bat" (.bat)' });
  });

  it('finds the EICAR test file zipped (eicar_com.zip) and zipped twice (eicarcom2.zip)', () => {
    // with .com blocked the name alone refuses it: the signature is looked for with no extension blocked
    const eicarOnly = { ...options(), blockedExtensions: [] };
    const once = zip({ 'eicar.com': EICAR });
    expect(check(zipped(once, 'Content-Disposition: attachment; filename=eicar_com.zip'), [], eicarOnly)).toEqual({ action: 'refuse', reason: 'eicar', detail: 'EICAR test signature in "eicar_com.zip > eicar.com"' });
    expect(check(zipped(zip({ 'eicar_com.zip': once }), 'Content-Disposition: attachment; filename=eicarcom2.zip'), [], eicarOnly)).toMatchObject({ reason: 'eicar' });
    expect(check(zipped(once, 'Content-Disposition: attachment; filename=eicar_com.zip'), [], options())).toMatchObject({ reason: 'worm-attachment' });
  });

  it('passes a harmless zip without a header', () => {
    expect(check(zipped(zip({ 'report.pdf': '%PDF', 'data/figures.csv': '1,2' })), [], options())).toEqual({ action: 'accept' });
  });

  it('refuses an archive it cannot read within the bounds, or tags it when told to', () => {
    const deep = zipped(zip({ 'b.zip': zip({ 'c.zip': zip({ 'x.txt': 'x' }) }) }));
    const why = 'invoice.zip > b.zip > c.zip: an archive nested deeper than maxDepth 2';
    expect(check(deep, [], options())).toEqual({ action: 'refuse', reason: 'archive-unreadable', detail: why });
    expect(check(deep, [], options({ unreadable: 'tag' }))).toEqual({ action: 'accept', headers: [[ARCHIVE_HEADER, `unreadable: ${why}`]] });
    expect(check(deep, [], options({ maxDepth: 3 }))).toEqual({ action: 'accept' });
    const damaged = zipped(zip({ 'a.txt': 'x' }).subarray(0, 30));
    expect(check(damaged, [], options())).toMatchObject({ reason: 'archive-unreadable', detail: expect.stringMatching(/^invoice\.zip: not a readable ZIP archive/) });
  });

  it('holds no more than maxBytes of one attachment, and refuses a bigger one', () => {
    // bigger than the entries inflated for the EICAR check: only the archive itself is held
    const archive = zip({ 'noise.bin': Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) & 0xff)) });
    expect(check(zipped(archive), [], options({ maxBytes: archive.length }))).toEqual({ action: 'accept' });
    expect(check(zipped(archive), [], options({ maxBytes: archive.length - 1 }))).toEqual({ action: 'refuse', reason: 'archive-unreadable', detail: `invoice.zip: larger than maxBytes ${archive.length - 1}` });
  });

  it('leaves attachments alone whose type and name do not say zip (an Office file is a zip too)', () => {
    const docx = zipped(zip({ 'word/document.xml': '<w/>', 'evil.exe': 'MZ' }), 'Content-Disposition: attachment; filename="letter.docx"', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document');
    expect(check(docx, [], options())).toEqual({ action: 'accept' });
  });
});
