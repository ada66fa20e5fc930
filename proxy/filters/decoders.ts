// Incremental transfer-encoding decoders for part bodies that arrive in pieces. Each
// keeps only a carry of under 4 characters, so memory does not grow with the part.

export class Base64Decoder {
  private carry = '';

  /** Decodes what is complete so far; anything but the base64 alphabet (line ends, padding) is skipped. */
  write(piece: Buffer): Buffer {
    const s = this.carry + piece.toString('latin1').replace(/[^A-Za-z0-9+/]/g, '');
    const whole = s.length - (s.length % 4);
    this.carry = s.slice(whole);
    return whole > 0 ? Buffer.from(s.slice(0, whole), 'base64') : Buffer.alloc(0);
  }

  end(): Buffer {
    const rest = this.carry;
    this.carry = '';
    return rest.length > 1 ? Buffer.from(rest, 'base64') : Buffer.alloc(0);
  }
}

/**
 * Decodes one line (or piece of a line) of quoted-printable: `=XX` escapes, and a
 * trailing `=` soft break joins the line with the next. An escape split across two
 * pieces of an over-long line is left as is.
 */
export function decodeQuotedPrintable(piece: Buffer): Buffer {
  let s = piece.toString('latin1');
  let lineEnd = '';
  const m = /\r?\n$/.exec(s);
  if (m) {
    s = s.slice(0, -m[0].length);
    if (s.endsWith('=')) s = s.slice(0, -1);
    else lineEnd = '\r\n';
  }
  s = s.replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  return Buffer.from(s + lineEnd, 'latin1');
}

/** Finds a byte signature in a stream split anywhere, keeping only signature-1 bytes between chunks. */
export class SignatureWindow {
  private tail = Buffer.alloc(0);

  constructor(private readonly signature: Buffer) {}

  feed(chunk: Buffer): boolean {
    if (chunk.length === 0) return false;
    const keep = this.signature.length - 1;
    if (chunk.indexOf(this.signature) >= 0) return true;
    if (this.tail.length > 0 && Buffer.concat([this.tail, chunk.subarray(0, keep)]).indexOf(this.signature) >= 0) return true;
    // copy, so the window does not pin a large chunk in memory
    this.tail = Buffer.from(chunk.length >= keep ? chunk.subarray(chunk.length - keep) : Buffer.concat([this.tail, chunk]).subarray(-keep));
    return false;
  }

  reset(): void {
    this.tail = Buffer.alloc(0);
  }
}
