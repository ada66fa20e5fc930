// A streaming MIME structure scanner: reports every part's headers and attachment
// names and passes leaf part bodies on in pieces, with bounded memory whatever the
// message size. Bounds: a header line (after unfolding) keeps at most MAX_LINE = 8 KB,
// a body line is handed on in pieces of at most MAX_LINE, and at most MAX_DEPTH = 32
// nested multipart boundaries are tracked. An attached message in base64 or
// quoted-printable is decoded into a scanner of its own, with the same bounds, at most
// MAX_ENCODED_NESTING = 4 of them inside each other (so at most ~5 x 16 KB of line
// buffers per message). When a bound cuts something that may hold a file name it is
// recorded in `limits`, so a filter can fail closed.
import { Base64Decoder, decodeQuotedPrintable } from './decoders.ts';
import { parseHeaderValue } from './mime-params.ts';

export const MAX_LINE = 8192;
export const MAX_DEPTH = 32;
export const MAX_ENCODED_NESTING = 4;

type PieceHandler = (piece: Buffer, lineStart: boolean, lineEnd: boolean) => void;

/** Splits bytes into lines (terminator included); a line longer than maxPiece comes in several pieces. */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingLength = 0;
  private lineStart = true;
  private stopped = false;

  constructor(
    private readonly onPiece: PieceHandler,
    private readonly maxPiece = MAX_LINE,
  ) {}

  /** No more pieces, from this one on: a reader that has what it wanted need not have the rest split. */
  stop(): void {
    this.stopped = true;
    this.pending = [];
    this.pendingLength = 0;
  }

  /** Between two lines: nothing of a line is held, and the next byte starts one. */
  get atLineStart(): boolean {
    return this.pendingLength === 0 && this.lineStart;
  }

  /**
   * Splits `chunk`; returns how many of its bytes were taken: all of them, or fewer when
   * `until` said yes after a whole line (the caller takes the rest another way).
   */
  write(chunk: Buffer, until?: () => boolean): number {
    let start = 0;
    while (start < chunk.length && !this.stopped) {
      const lf = chunk.indexOf(0x0a, start);
      const end = lf < 0 ? chunk.length : lf + 1;
      if (lf >= 0 && this.pendingLength === 0 && end - start <= this.maxPiece) {
        // the common case, a whole line inside the chunk: straight out as a view of it
        const lineStart = this.lineStart;
        this.lineStart = true;
        this.onPiece(chunk.subarray(start, end), lineStart, true);
        start = end;
        if (until?.()) return start;
        continue;
      }
      let seg = chunk.subarray(start, end);
      while (this.pendingLength + seg.length > this.maxPiece) {
        const take = this.maxPiece - this.pendingLength;
        this.hold(seg.subarray(0, take));
        seg = seg.subarray(take);
        this.emit(false);
      }
      this.hold(seg);
      start = end;
      if (lf >= 0) {
        this.emit(true);
        if (until?.()) return start;
      }
    }
    // Whole lines went out as views of the chunk (no copy per line); a partial line
    // waits for the next write, and the caller may reuse its chunk: keep a copy.
    if (this.pending.length) this.pending = [Buffer.concat(this.pending, this.pendingLength)];
    return chunk.length;
  }

  end(): void {
    if (this.pendingLength > 0 && !this.stopped) this.emit(true);
  }

  private hold(seg: Buffer): void {
    if (seg.length === 0 || this.stopped) return;
    this.pending.push(seg);
    this.pendingLength += seg.length;
  }

  private emit(lineEnd: boolean): void {
    if (this.stopped) return;
    const piece = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    this.pending = [];
    this.pendingLength = 0;
    const lineStart = this.lineStart;
    this.lineStart = lineEnd;
    this.onPiece(piece, lineStart, lineEnd);
  }
}

export interface PartInfo {
  /** 0 for the message itself, more for parts and attached messages. */
  depth: number;
  /** lower-case `type/subtype` */
  contentType: string;
  /** lower-case Content-Transfer-Encoding */
  encoding: string;
}

export type NameSource = 'name' | 'filename' | 'name*' | 'filename*' | 'uuencode' | 'yenc';

export interface MimeHandlers {
  /** Every header of every part, unfolded (name as written, value without the line break). */
  header?(name: string, value: string, depth: number): void;
  /** Every file name a mail client could take for a part, each variant separately. */
  fileName?(name: string, part: PartInfo, source: NameSource): void;
  partStart?(part: PartInfo): void;
  /**
   * Body of a leaf part, raw (still transfer-encoded), line breaks included: whole lines
   * (a line longer than MAX_LINE in pieces), or, where no boundary is open, a run of whole
   * lines at once, unless `bodyLines` asks for one line per piece.
   */
  body?(piece: Buffer, part: PartInfo, lineStart: boolean): void;
  bodyLines?: boolean;
  partEnd?(part: PartInfo): void;
}

export type ScanLimit = 'header-too-long' | 'too-deep';

interface Part extends PartInfo {
  leaf: boolean;
}

export class MimeScanner {
  readonly limits = new Set<ScanLimit>();
  private readonly lines = new LineSplitter((piece, start, end) => this.piece(piece, start, end));
  private inHeaders = true;
  private part: Part;
  private header: string | null = null;
  private headerCut = false;
  private contentHeaders: Record<string, string> = {};
  private readonly boundaries: string[] = [];
  /** A transfer-encoded attached message being decoded into a scanner of its own. */
  private nested: { scanner: MimeScanner; decode: (piece: Buffer) => Buffer; flush: () => Buffer } | null = null;

  /** @param base depth of the message this scanner reads (more than 0 for an encoded attached message) */
  constructor(
    private readonly on: MimeHandlers,
    private readonly base = 0,
    private readonly encodedNesting = 0,
  ) {
    this.part = { depth: base, contentType: 'text/plain', encoding: '7bit', leaf: false };
  }

  write(chunk: Buffer): void {
    let rest = chunk;
    while (rest.length > 0) {
      if (!this.runs()) {
        rest = rest.subarray(this.lines.write(rest, this.runsNow));
        continue;
      }
      // nothing in this body can be a boundary or a header: its whole lines go on at once
      const lf = rest.lastIndexOf(0x0a);
      if (lf < 0) return void this.lines.write(rest);
      this.bodyRun(rest.subarray(0, lf + 1));
      rest = rest.subarray(lf + 1);
    }
  }

  private readonly runsNow = () => this.runs();

  /** In a leaf part's body, between lines, with no boundary open and no encoded message inside. */
  private runs(): boolean {
    return !this.inHeaders && this.part.leaf && this.boundaries.length === 0 && this.nested === null && !this.on.bodyLines && this.lines.atLineStart;
  }

  private bodyRun(run: Buffer): void {
    this.on.body?.(run, this.part, true);
    if (!this.on.fileName || !/^(text|application)\//.test(this.part.contentType)) return;
    // the lines of the run that may carry a file name, in their order
    const starts: number[] = [];
    for (const needle of ['begin', '=ybegin']) {
      for (let i = run.indexOf(needle); i >= 0; i = run.indexOf(needle, i + 1)) if (i === 0 || run[i - 1] === 0x0a) starts.push(i);
    }
    for (const i of starts.sort((a, b) => a - b)) {
      const lf = run.indexOf(0x0a, i);
      this.inlineNames(run.subarray(i, Math.min(lf < 0 ? run.length : lf + 1, i + MAX_LINE)));
    }
  }

  end(): void {
    this.lines.end();
    if (this.inHeaders) this.endHeaders();
    this.endLeaf();
  }

  private piece(piece: Buffer, lineStart: boolean, lineEnd: boolean): void {
    if (lineStart && this.boundaries.length > 0 && piece[0] === 0x2d && this.delimiter(piece)) return;
    if (this.inHeaders) return this.headerPiece(piece, lineStart, lineEnd);
    if (!this.part.leaf) return; // preamble or epilogue of a multipart
    if (this.nested) return this.nested.scanner.write(this.nested.decode(piece));
    this.on.body?.(piece, this.part, lineStart);
    if (lineStart && this.on.fileName && (piece[0] === 0x62 || piece[0] === 0x3d) && /^(text|application)\//.test(this.part.contentType)) this.inlineNames(piece);
  }

  /** A `--boundary` or `--boundary--` line of any open multipart; inner ones are closed with it. */
  private delimiter(piece: Buffer): boolean {
    const text = piece.toString('latin1').replace(/\r?\n$/, '');
    for (let k = this.boundaries.length - 1; k >= 0; k--) {
      const b = `--${this.boundaries[k]}`;
      if (!text.startsWith(b)) continue;
      const rest = text.slice(b.length);
      const close = rest.startsWith('--');
      if ((close ? rest.slice(2) : rest).trim() !== '') continue;
      if (this.inHeaders) this.endHeaders();
      this.endLeaf();
      this.boundaries.length = close ? k : k + 1;
      this.part = { depth: this.base + k + 1, contentType: 'text/plain', encoding: '7bit', leaf: false };
      this.inHeaders = !close;
      this.contentHeaders = {};
      return true;
    }
    return false;
  }

  private headerPiece(piece: Buffer, lineStart: boolean, lineEnd: boolean): void {
    const text = piece.toString('utf8').replace(/\r?\n$/, '');
    if (lineStart && lineEnd && text === '') return this.endHeaders();
    if (lineStart && !/^[ \t]/.test(text)) {
      this.flushHeader();
      this.header = '';
    }
    if (this.header === null) return; // continuation without a header: junk, ignored
    if (this.header.length + text.length > MAX_LINE) {
      this.header += text.slice(0, MAX_LINE - this.header.length);
      this.headerCut = true;
    } else this.header += text;
  }

  private flushHeader(): void {
    if (this.header === null) return;
    const colon = this.header.indexOf(':');
    if (colon > 0) {
      const name = this.header.slice(0, colon).trim();
      const value = this.header.slice(colon + 1).trim();
      const key = name.toLowerCase();
      if (key === 'content-type' || key === 'content-disposition' || key === 'content-transfer-encoding') {
        this.contentHeaders[key] = value;
        if (this.headerCut && key !== 'content-transfer-encoding') this.limits.add('header-too-long');
      }
      this.on.header?.(name, value, this.part.depth);
    }
    this.header = null;
    this.headerCut = false;
  }

  private endHeaders(): void {
    this.flushHeader();
    this.inHeaders = false;
    const type = parseHeaderValue(this.contentHeaders['content-type'] ?? '');
    const disposition = parseHeaderValue(this.contentHeaders['content-disposition'] ?? '');
    const part = this.part;
    part.contentType = type.value.toLowerCase() || 'text/plain';
    part.encoding = (this.contentHeaders['content-transfer-encoding'] ?? '7bit').trim().toLowerCase();
    for (const [name, value] of [...type.params, ...disposition.params]) {
      if ((name === 'name' || name === 'name*' || name === 'filename' || name === 'filename*') && value !== '')
        this.on.fileName?.(value, part, name);
    }
    const boundary = type.params.find(([n]) => n === 'boundary' || n === 'boundary*')?.[1];
    if (part.contentType.startsWith('multipart/') && boundary) {
      if (this.base + this.boundaries.length < MAX_DEPTH) return void this.boundaries.push(boundary);
      this.limits.add('too-deep');
    } else if (/^message\/(rfc822|global)$/.test(part.contentType) && /^(base64|quoted-printable)$/.test(part.encoding)) {
      // RFC 2046 allows no such encoding here, but mail clients decode and open it all
      // the same, so a worm can hide in it: decode it and scan it as a message of its own
      if (part.depth + 1 >= MAX_DEPTH || this.encodedNesting >= MAX_ENCODED_NESTING) this.limits.add('too-deep');
      else {
        const b64 = part.encoding === 'base64' ? new Base64Decoder() : null;
        this.nested = {
          scanner: new MimeScanner(this.on, part.depth + 1, this.encodedNesting + 1),
          decode: b64 ? (piece) => b64.write(piece) : decodeQuotedPrintable,
          flush: () => b64?.end() ?? Buffer.alloc(0),
        };
        part.leaf = true;
        return;
      }
    } else if (/^message\/(rfc822|global)$/.test(part.contentType)) {
      // an attached message: its own headers (and MIME structure) follow
      this.part = { depth: part.depth + 1, contentType: 'text/plain', encoding: '7bit', leaf: false };
      this.contentHeaders = {};
      this.inHeaders = true;
      return;
    }
    part.leaf = true;
    this.on.partStart?.(part);
  }

  private endLeaf(): void {
    if (!this.part.leaf) return;
    this.part.leaf = false;
    const nested = this.nested;
    if (nested) {
      // its parts had their own partStart and partEnd; the encoded part itself had none
      this.nested = null;
      nested.scanner.write(nested.flush());
      nested.scanner.end();
      for (const limit of nested.scanner.limits) this.limits.add(limit);
      return;
    }
    this.on.partEnd?.(this.part);
  }

  /** uuencode `begin 644 name` and yEnc `=ybegin ... name=x` lines (starting with `b` or `=`) carry file names in the body. */
  private inlineNames(piece: Buffer): void {
    const line = piece.toString('utf8').replace(/\r?\n$/, '');
    const uu = /^begin(?:-base64)? [0-7]{3,4} (.+)$/.exec(line);
    if (uu) return this.on.fileName?.(uu[1], this.part, 'uuencode');
    const y = /^=ybegin .*\bname=(.+)$/.exec(line);
    if (y) this.on.fileName?.(y[1], this.part, 'yenc');
  }
}
