// Mass-mailing worms travel as executable attachments; the EICAR string is the
// standard harmless stand-in for a virus, used to test that a scanner is in the path.
// File names are read from every place a mail client takes them (see mime-scan.ts);
// a MIME header too long or a nesting too deep to read in full refuses the message,
// since the name it hides cannot be checked.
import { Base64Decoder, SignatureWindow } from './decoders.ts';
import type { ContentFilter, FilterRun, FilterVerdict } from './filter.ts';
import { MimeScanner, type PartInfo } from './mime-scan.ts';

export const EICAR = Buffer.from('X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*', 'latin1');

export interface WormOptions {
  blockedExtensions: readonly string[];
  eicar: boolean;
}

/**
 * The blocked extension a file name ends in, or null. Windows drops trailing dots and
 * spaces (`x.exe.` runs as x.exe), only the last extension counts (`invoice.pdf.exe`
 * is an exe), and any path in the name is ignored.
 */
export function blockedExtension(fileName: string, blocked: ReadonlySet<string>): string | null {
  const base = fileName.replace(/^.*[\\/]/, '').replace(/[\s.\u0000-\u001f"']+$/u, '');
  const dot = base.lastIndexOf('.');
  if (dot < 0) return null;
  const ext = base.slice(dot + 1).toLowerCase();
  return blocked.has(ext) ? ext : null;
}

export function wormFilter(options: WormOptions): ContentFilter {
  const blocked = new Set(options.blockedExtensions.map((e) => e.replace(/^\*?\./, '').toLowerCase()));
  return { name: 'worm', start: () => new WormRun(blocked, options.eicar) };
}

class WormRun implements FilterRun {
  private verdict: FilterVerdict | null = null;
  private readonly raw = new SignatureWindow(EICAR);
  private readonly decoded = new SignatureWindow(EICAR);
  private base64: Base64Decoder | null = null;
  private readonly scanner: MimeScanner;

  constructor(
    private readonly blocked: ReadonlySet<string>,
    private readonly eicar: boolean,
  ) {
    this.scanner = new MimeScanner({
      fileName: (name) => {
        const ext = blockedExtension(name, blocked);
        if (ext) this.refuse('worm-attachment', `attachment ${JSON.stringify(name)} (.${ext})`);
      },
      partStart: (part) => this.startPart(part),
      body: (piece) => {
        if (this.base64) this.checkDecoded(this.base64.write(piece));
      },
      partEnd: () => {
        if (this.base64) this.checkDecoded(this.base64.end());
        this.base64 = null;
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
    return this.verdict ?? { action: 'accept' };
  }

  private startPart(part: PartInfo): void {
    this.base64 = this.eicar && part.encoding === 'base64' ? new Base64Decoder() : null;
    this.decoded.reset();
  }

  private checkDecoded(bytes: Buffer): void {
    if (this.decoded.feed(bytes)) this.refuse('eicar', 'EICAR test signature in a base64 attachment');
  }

  private refuse(reason: 'worm-attachment' | 'eicar', detail: string): void {
    this.verdict ??= { action: 'refuse', reason, detail };
  }
}
