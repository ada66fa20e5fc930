// Mass-mailing worms travel as executable attachments; the EICAR string is the
// standard harmless stand-in for a virus, used to test that a scanner is in the path.
// File names are read from every place a mail client takes them (see mime-scan.ts);
// a MIME header too long or a nesting too deep to read in full refuses the message,
// since the name it hides cannot be checked. ZIP attachments (by type or name) are
// decoded into a bounded buffer and looked into (archive.ts): a blocked name inside
// refuses the message as one outside would, and an archive that cannot be read within
// the bounds is refused or tagged, as filters.archives.unreadable says.
import { ArchiveReader, isZipName, isZipType, type ArchiveEntry, type ArchiveLimits } from './archive.ts';
import { Base64Decoder, decodeQuotedPrintable, SignatureWindow } from './decoders.ts';
import type { ContentFilter, FilterRun, FilterVerdict } from './filter.ts';
import { MimeScanner, type PartInfo } from './mime-scan.ts';

export const EICAR = Buffer.from('X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*', 'latin1');

export interface ArchiveOptions extends ArchiveLimits {
  /** an archive that cannot be read within the limits: refused, or passed with an X-Attitude-Archive header */
  unreadable: 'refuse' | 'tag';
}

export interface WormOptions {
  blockedExtensions: readonly string[];
  eicar: boolean;
  /** look into ZIP attachments; null: not */
  archives?: ArchiveOptions | null;
}

/** The EICAR test file is 68 bytes, 128 at most with its allowed padding: archive entries up to 1 KB are inflated to look for it. */
const EICAR_FILE_MAX = 1024;

/** The header a tagged message carries when an archive in it could not be checked. */
export const ARCHIVE_HEADER = 'X-Attitude-Archive';

/**
 * The blocked extension a file name ends in, or null. Windows drops trailing dots and
 * spaces (`x.exe.` runs as x.exe), only the last extension counts (`invoice.pdf.exe`
 * is an exe), and any path in the name is ignored.
 */
export function blockedExtension(fileName: string, blocked: ReadonlySet<string>): string | null {
  // some extractors end a name at a NUL: `run.exe\0.txt` is checked as run.exe too
  const nul = fileName.indexOf('\u0000');
  if (nul >= 0) return blockedExtension(fileName.slice(0, nul), blocked) ?? blockedExtension(fileName.slice(nul + 1), blocked);
  const base = fileName.replace(/^.*[\\/]/, '').replace(/[\s.\u0000-\u001f"']+$/u, '');
  const dot = base.lastIndexOf('.');
  if (dot < 0) return null;
  const ext = base.slice(dot + 1).toLowerCase();
  return blocked.has(ext) ? ext : null;
}

export function wormFilter(options: WormOptions): ContentFilter {
  const blocked = new Set(options.blockedExtensions.map((e) => e.replace(/^\*?\./, '').toLowerCase()));
  return { name: 'worm', start: () => new WormRun(blocked, options.eicar, options.archives ?? null) };
}

const copy = (piece: Buffer) => Buffer.from(piece);

/** A ZIP part's decoded bytes, held up to a bound. */
interface HeldArchive {
  name: string;
  chunks: Buffer[];
  bytes: number;
  /** more than the bound arrived: the rest was not kept */
  over: boolean;
}

class WormRun implements FilterRun {
  private verdict: FilterVerdict | null = null;
  private readonly raw = new SignatureWindow(EICAR);
  private readonly decoded = new SignatureWindow(EICAR);
  private base64: Base64Decoder | null = null;
  private readonly scanner: MimeScanner;
  /** the file names of the part whose headers were just read (they come before its partStart) */
  private named: { part: PartInfo | null; names: string[] } = { part: null, names: [] };
  private archive: HeldArchive | null = null;
  private decodeArchive: ((piece: Buffer) => Buffer) | null = null;
  private reader: ArchiveReader | null = null;
  private readonly unreadable: string[] = [];

  constructor(
    private readonly blocked: ReadonlySet<string>,
    private readonly eicar: boolean,
    private readonly archives: ArchiveOptions | null,
  ) {
    this.scanner = new MimeScanner({
      fileName: (name, part) => {
        const ext = blockedExtension(name, blocked);
        if (ext) this.refuse('worm-attachment', `attachment ${JSON.stringify(name)} (.${ext})`);
        if (this.named.part !== part) this.named = { part, names: [] };
        this.named.names.push(name);
      },
      partStart: (part) => this.startPart(part),
      body: (piece) => {
        const decoded = this.base64 ? this.base64.write(piece) : null;
        if (decoded && this.eicar) this.checkDecoded(decoded);
        if (this.archive) this.hold(decoded ?? this.decodeArchive!(piece));
      },
      partEnd: () => {
        const rest = this.base64?.end();
        if (rest && this.eicar) this.checkDecoded(rest);
        if (rest && this.archive) this.hold(rest);
        this.base64 = null;
        if (this.archive) this.readArchive(this.archive);
        this.archive = null;
      },
    });
  }

  write(chunk: Buffer): void {
    if (this.verdict) return; // refused already: the rest cannot change that
    if (this.eicar && this.raw.feed(chunk)) return this.refuse('eicar', 'EICAR test signature in the message');
    this.scanner.write(chunk);
  }

  end(): FilterVerdict {
    if (!this.verdict) {
      this.scanner.end();
      if (this.blocked.size > 0 && this.scanner.limits.size > 0)
        this.refuse('worm-attachment', `MIME structure not checkable (${[...this.scanner.limits].join(', ')})`);
    }
    if (!this.verdict && this.unreadable.length > 0) return { action: 'accept', headers: [[ARCHIVE_HEADER, `unreadable: ${this.unreadable.join('; ')}`]] };
    return this.verdict ?? { action: 'accept' };
  }

  private startPart(part: PartInfo): void {
    const names = this.named.part === part ? this.named.names : [];
    // the archive scan costs a buffer: only for parts whose type or name says ZIP
    const zip = this.archives && (isZipType(part.contentType) || names.some(isZipName));
    this.archive = zip ? { name: names.find(isZipName) ?? names[0] ?? `(${part.contentType})`, chunks: [], bytes: 0, over: false } : null;
    this.base64 = (this.eicar || zip) && part.encoding === 'base64' ? new Base64Decoder() : null;
    // the scanner's raw pieces are views of a chunk the caller may reuse: a held one is a copy
    this.decodeArchive = !zip ? null : part.encoding === 'quoted-printable' ? decodeQuotedPrintable : copy;
    this.decoded.reset();
  }

  private hold(bytes: Buffer): void {
    const a = this.archive!;
    if (a.over || bytes.length === 0) return;
    a.bytes += bytes.length;
    if (a.bytes > this.readerOf().bytesLeft) {
      a.over = true;
      a.chunks = [];
    } else a.chunks.push(bytes);
  }

  private readerOf(): ArchiveReader {
    return (this.reader ??= new ArchiveReader(this.archives!, this.eicar ? EICAR_FILE_MAX : 0));
  }

  private readArchive(a: HeldArchive): void {
    if (this.verdict) return;
    const result = a.over ? { ok: false as const, why: `${a.name}: larger than maxBytes ${this.archives!.maxBytes}` } : this.readerOf().read(a.name, Buffer.concat(a.chunks, a.bytes));
    if (!result.ok) {
      if (this.archives!.unreadable === 'refuse') this.refuse('archive-unreadable', result.why);
      else this.unreadable.push(result.why);
      return;
    }
    for (const entry of result.entries) this.checkEntry(entry);
  }

  private checkEntry(entry: ArchiveEntry): void {
    const where = JSON.stringify(entry.path.join(' > '));
    const ext = blockedExtension(entry.path[entry.path.length - 1], this.blocked);
    if (ext) return this.refuse('worm-attachment', `attachment ${where} (.${ext})`);
    if (entry.content && Buffer.from(entry.content.buffer, entry.content.byteOffset, entry.content.length).includes(EICAR)) this.refuse('eicar', `EICAR test signature in ${where}`);
  }

  private checkDecoded(bytes: Buffer): void {
    if (this.decoded.feed(bytes)) this.refuse('eicar', 'EICAR test signature in a base64 attachment');
  }

  private refuse(reason: 'worm-attachment' | 'eicar' | 'archive-unreadable', detail: string): void {
    this.verdict ??= { action: 'refuse', reason, detail };
  }
}
