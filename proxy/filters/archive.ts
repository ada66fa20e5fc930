// Looks into ZIP attachments for the names a worm hides there (invoice.zip holding
// invoice.pdf.exe). Reading is synchronous (the DATA stages are) and bounded per
// message: archives inside archives up to maxDepth levels, maxEntries entries, maxBytes
// of archive bytes held and inflated. An archive that cannot be read within those
// bounds (damaged, encrypted inside, nested too deep, too big) is reported unreadable,
// so the filter can refuse or tag it: what it hides cannot be checked.
//
// Entry names come from both places readers take them: the central directory (what
// Windows Explorer, unzip and 7-Zip list) and the local headers in file order (what
// streaming extractors and some scanners read). An archive whose local headers name
// other files than its directory shows each of them. Only entries that can hold what the
// filter looks for are inflated: nested archives, and small files when the filter
// wants their bytes (the EICAR test file inside a zip).
import { Unzip, unzipSync, type UnzipFileInfo } from 'fflate';

export interface ArchiveLimits {
  /** archive levels looked into: 1 = only the attachment itself */
  maxDepth: number;
  /** entries in all archives of one message */
  maxEntries: number;
  /** archive bytes held and inflated for one message */
  maxBytes: number;
}

export interface ArchiveEntry {
  /** the archives it is in, outermost first, then its own name */
  path: readonly string[];
  /** its bytes, for entries of at most `smallEntry` bytes when asked for */
  content?: Uint8Array;
}

export type ArchiveResult = { ok: true; entries: ArchiveEntry[] } | { ok: false; why: string };

/** A bound was reached: the archive is unreadable within the limits. */
class OutOfBounds extends Error {}

/** `.zip` as Windows reads a name (trailing dots and spaces dropped). */
export function isZipName(name: string): boolean {
  return /\.zip[\s.]*$/i.test(name);
}

/** MIME types that say ZIP (mail clients and webmail use all of these). */
export function isZipType(contentType: string): boolean {
  return /^(application\/(zip|x-zip|x-zip-compressed)|multipart\/x-zip)$/.test(contentType);
}

/**
 * One message's archive reader: the bounds hold across every archive it reads.
 * @param smallEntry entries up to this size are inflated and returned with their bytes (0: none)
 */
export class ArchiveReader {
  private entries = 0;
  private bytes = 0;

  constructor(
    private readonly limits: ArchiveLimits,
    private readonly smallEntry = 0,
  ) {}

  /** Bytes still allowed for one more archive to be held (the attachment itself counts too). */
  get bytesLeft(): number {
    return Math.max(0, this.limits.maxBytes - this.bytes);
  }

  /** Every entry of the archive `name` (its bytes given whole), nested archives read too. */
  read(name: string, zip: Uint8Array): ArchiveResult {
    const entries: ArchiveEntry[] = [];
    if (zip.length > this.bytesLeft) return { ok: false, why: `${name}: larger than maxBytes ${this.limits.maxBytes}` };
    this.bytes += zip.length;
    try {
      this.level([name], zip, 1, entries);
    } catch (err) {
      if (err instanceof OutOfBounds) return { ok: false, why: err.message };
      throw err;
    }
    return { ok: true, entries };
  }

  private level(path: string[], zip: Uint8Array, depth: number, out: ArchiveEntry[]): void {
    const where = path.join(' > ');
    const nested = new Set<string>();
    const small = new Set<string>();
    const listed = new Set<string>();
    const pick = (f: UnzipFileInfo): boolean => {
      this.count(where);
      listed.add(f.name);
      out.push({ path: [...path, f.name] });
      if (!isZipName(f.name)) {
        if (this.smallEntry > 0 && f.originalSize <= this.smallEntry) small.add(f.name);
        return false;
      }
      if (depth >= this.limits.maxDepth) throw new OutOfBounds(`${where} > ${f.name}: an archive nested deeper than maxDepth ${this.limits.maxDepth}`);
      // two entries of one name come back as one: the other could hide anything
      if (nested.has(f.name)) throw new OutOfBounds(`${where}: two archives named ${JSON.stringify(f.name)}`);
      this.take(f, where);
      nested.add(f.name);
      return true;
    };
    let archives: Record<string, Uint8Array>;
    try {
      archives = unzipSync(zip, { filter: pick });
    } catch (err) {
      if (err instanceof OutOfBounds) throw err;
      throw new OutOfBounds(`${where}: not a readable ZIP archive (${(err as Error).message})`);
    }
    for (const name of this.localNames(zip, where)) {
      if (listed.has(name)) continue;
      this.count(where);
      out.push({ path: [...path, name] });
    }
    for (const name of nested) this.level([...path, name], archives[name], depth + 1, out);
    if (small.size > 0) for (const [name, content] of Object.entries(this.inflateSmall(zip, small, where))) out.push({ path: [...path, name], content });
  }

  /**
   * The bytes of small entries, apart from the names: an entry that does not inflate
   * (encrypted, an unknown method) only goes unchecked for its bytes, its name was
   * checked already; an archive that holds encrypted files is not unreadable for that.
   */
  private inflateSmall(zip: Uint8Array, names: ReadonlySet<string>, where: string): Record<string, Uint8Array> {
    try {
      return unzipSync(zip, { filter: (f) => names.has(f.name) && (f.compression === 0 || f.compression === 8) && (this.take(f, where), true) });
    } catch (err) {
      if (err instanceof OutOfBounds) throw err;
      return {};
    }
  }

  /** Counts an entry's claimed size against maxBytes before it is inflated; inflating stops there, so a lie only truncates. */
  private take(f: UnzipFileInfo, where: string): void {
    if (f.originalSize > this.bytesLeft) throw new OutOfBounds(`${where} > ${f.name}: more than maxBytes ${this.limits.maxBytes} inflated`);
    this.bytes += f.originalSize;
  }

  /** The names of the local headers, in file order; nothing is inflated. */
  private localNames(zip: Uint8Array, where: string): string[] {
    const names: string[] = [];
    const stream = new Unzip((file) => {
      names.push(file.name);
      if (names.length > this.limits.maxEntries) throw new OutOfBounds(`${where}: more than maxEntries ${this.limits.maxEntries} entries`);
    });
    try {
      stream.push(zip, true);
    } catch (err) {
      if (err instanceof OutOfBounds) throw err;
      // the directory was read: a damaged tail after the last local file is what a directory reader ignores too
    }
    return names;
  }

  private count(where: string): void {
    if (++this.entries > this.limits.maxEntries) throw new OutOfBounds(`${where}: more than maxEntries ${this.limits.maxEntries} entries`);
  }
}
