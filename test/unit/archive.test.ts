// The ZIP reader of the worm filter: every entry name from the directory and from the
// local headers, nested archives, and each bound (depth, entries, bytes) turning an
// archive unreadable rather than unchecked.
import { describe, expect, it } from 'vitest';
import { ArchiveReader, isZipName, isZipType, type ArchiveLimits, type ArchiveResult } from '../../proxy/filters/archive.ts';
import { claimSize, garble, hideInFront, renameLocal, zip } from '../helpers/zip.ts';
import { parseProxyConfig } from '../../proxy/config/load.ts';
import { InvalidFileError } from '../../proxy/config/problems.ts';

const LIMITS: ArchiveLimits = { maxDepth: 2, maxEntries: 100, maxBytes: 1024 * 1024 };

const read = (name: string, bytes: Uint8Array, limits: Partial<ArchiveLimits> = {}, small = 0): ArchiveResult => new ArchiveReader({ ...LIMITS, ...limits }, small).read(name, bytes);
const paths = (r: ArchiveResult) => (r.ok ? r.entries.map((e) => e.path.join(' > ')).sort() : r.why);
const why = (r: ArchiveResult) => (r.ok ? 'readable' : r.why);

describe('archive names and types', () => {
  it.each([
    ['a.zip', true],
    ['A.ZIP', true],
    ['a.zip. ', true],
    ['a.zip.exe', false],
    ['a.docx', false],
    ['zip', false],
  ])('%s is a zip name: %s', (name, yes) => expect(isZipName(name)).toBe(yes));

  it('knows the zip types mail clients send', () => {
    for (const t of ['application/zip', 'application/x-zip-compressed', 'application/x-zip', 'multipart/x-zip']) expect(isZipType(t)).toBe(true);
    expect(isZipType('application/octet-stream')).toBe(false);
  });
});

describe('ArchiveReader', () => {
  it('lists every entry with the archive it is in', () => {
    expect(paths(read('invoice.zip', zip({ 'invoice.pdf.exe': 'MZ', 'docs/readme.txt': 'hi' })))).toEqual(['invoice.zip > docs/readme.txt', 'invoice.zip > invoice.pdf.exe']);
  });

  it('reads a zip inside a zip up to maxDepth, and calls one deeper unreadable', () => {
    const inner = zip({ 'setup.exe': 'MZ' });
    expect(paths(read('a.zip', zip({ 'b.zip': inner })))).toEqual(['a.zip > b.zip', 'a.zip > b.zip > setup.exe']);
    expect(why(read('a.zip', zip({ 'b.zip': zip({ 'c.zip': inner }) })))).toBe('a.zip > b.zip > c.zip: an archive nested deeper than maxDepth 2');
    expect(why(read('a.zip', zip({ 'b.zip': inner }), { maxDepth: 1 }))).toMatch(/^a\.zip > b\.zip: an archive nested deeper than maxDepth 1$/);
  });

  it('counts entries over every archive of the message', () => {
    const files = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`f${i}.txt`, 'x']));
    expect(read('a.zip', zip(files), { maxEntries: 6 }).ok).toBe(true);
    expect(why(read('a.zip', zip(files), { maxEntries: 5 }))).toBe('a.zip: more than maxEntries 5 entries');
    const reader = new ArchiveReader({ ...LIMITS, maxEntries: 10 });
    expect(reader.read('a.zip', zip(files)).ok).toBe(true);
    expect(why(reader.read('b.zip', zip(files)))).toBe('b.zip: more than maxEntries 10 entries');
  });

  it('bounds the bytes held and inflated: the archive itself, and what a nested one claims', () => {
    const big = zip({ 'b.zip': zip({ 'data.bin': new Uint8Array(200_000) }) });
    expect(big.length).toBeLessThan(2000);
    expect(why(read('a.zip', big, { maxBytes: big.length - 1 }))).toBe(`a.zip: larger than maxBytes ${big.length - 1}`);
    // the nested archive inflates to a few hundred bytes: within 10 KB, not within 1 KB more than the outer one
    expect(read('a.zip', big, { maxBytes: 10_000 }).ok).toBe(true);
    expect(why(read('a.zip', big, { maxBytes: big.length + 100 }))).toMatch(/^a\.zip > b\.zip: more than maxBytes \d+ inflated$/);
  });

  it('calls an archive unreadable when it is not one, or a nested one lies about its size', () => {
    expect(why(read('a.zip', Buffer.from('PK but not really a zip file')))).toMatch(/^a\.zip: not a readable ZIP archive/);
    const lying = claimSize(zip({ 'b.zip': zip({ 'setup.exe': 'MZ'.repeat(500) }) }), 'b.zip', 40);
    expect(why(read('a.zip', lying))).toMatch(/^a\.zip > b\.zip: not a readable ZIP archive/);
  });

  it('refuses to guess between two nested archives of one name', () => {
    const a = zip({ 'b.zip': zip({ 'ok.txt': '1' }), 'c.zip': zip({ 'setup.exe': 'MZ' }) });
    const twice = Buffer.from(a.toString('latin1').replaceAll('c.zip', 'b.zip'), 'latin1');
    expect(why(read('a.zip', twice))).toBe('a.zip: two archives named "b.zip"');
  });

  it('shows the name of a local header that differs from the directory', () => {
    const z = renameLocal(zip({ 'readme.txt': 'MZ', 'other.txt': 'x' }), 'readme.txt', 'readme.exe');
    expect(paths(read('a.zip', z))).toEqual(['a.zip > other.txt', 'a.zip > readme.exe', 'a.zip > readme.txt']);
  });

  it('shows an entry only the local headers have (a streaming extractor would unpack it)', () => {
    const z = hideInFront(zip({ 'hidden.exe': 'MZ' }), zip({ 'shown.txt': 'hello' }));
    expect(paths(read('a.zip', z))).toEqual(['a.zip > hidden.exe', 'a.zip > shown.txt']);
  });

  it('returns the bytes of small entries when asked, nested ones too; one that does not inflate only goes unread', () => {
    const r = read('a.zip', zip({ 'eicar.com': 'X5O!', 'big.bin': new Uint8Array(5000), 'b.zip': zip({ 'inner.com': 'inside' }) }), {}, 4096);
    expect(r.ok && r.entries.filter((e) => e.content).map((e) => [e.path.join(' > '), Buffer.from(e.content!).toString()])).toEqual([
      ['a.zip > b.zip > inner.com', 'inside'],
      ['a.zip > eicar.com', 'X5O!'],
    ]);
    const encrypted = garble(zip({ 'secret.txt': 'some text that deflates '.repeat(20) }), 'secret.txt');
    const g = read('a.zip', encrypted, {}, 4096);
    expect(paths(g)).toEqual(['a.zip > secret.txt']);
    expect(g.ok && g.entries.some((e) => e.content)).toBe(false);
  });
});

describe('filters.archives in the proxy config', () => {
  const servers = [{ name: 'mx1', address: '127.0.0.1:2601' }];

  it('is on by default, with bounds', () => {
    expect(parseProxyConfig({ backends: { servers } }).filters.archives).toEqual({ enabled: true, maxDepth: 2, maxEntries: 1000, maxBytes: 50 * 1024 * 1024, unreadable: 'refuse' });
    expect(parseProxyConfig({ filters: { archives: { maxBytes: '5MB', unreadable: 'tag' } }, backends: { servers } }).filters.archives).toMatchObject({ maxBytes: 5 * 1024 * 1024, unreadable: 'tag' });
  });

  it('lists every bad key with its path', () => {
    let list: string[] = [];
    try {
      parseProxyConfig({ filters: { archives: { enabled: 'yes', maxDepth: 0, maxEntries: 1.5, maxBytes: 'lots', unreadable: 'drop' } }, backends: { servers } }, 'bad.yaml');
    } catch (err) {
      if (!(err instanceof InvalidFileError)) throw err;
      list = err.problems.map((p) => p.path);
    }
    expect(list).toEqual(['filters.archives.enabled', 'filters.archives.maxDepth', 'filters.archives.maxEntries', 'filters.archives.maxBytes', 'filters.archives.unreadable']);
  });
});
