// Dot-stuffing for the backend (RFC 5321 4.5.2): the last stage before the socket.
// A dot is doubled after ANY CR or LF, not only after CRLF, so even a bare line end
// that slipped past the line-ending stage cannot form a dot line a backend might take
// for end-of-data; on CRLF-only input (what the line-ending stage emits) this is
// exactly RFC dot-stuffing.
import type { Stage } from './stage.ts';

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const DOT_BUF = Buffer.from('.');

export class DotStuffer implements Stage {
  /** The last two bytes written (-1: none yet; the message starts at a line start). */
  private beforeLast = -1;
  private last = -1;

  /** @param stuff false for BDAT, which carries the message as it is: only the end is watched */
  constructor(private readonly stuff = true) {}

  write(chunk: Buffer, out: Buffer[]): void {
    if (chunk.length === 0) return;
    if (!this.stuff) {
      out.push(chunk);
      this.beforeLast = chunk.length >= 2 ? chunk[chunk.length - 2] : this.last;
      this.last = chunk[chunk.length - 1];
      return;
    }
    let start = 0;
    // dots are rare: let indexOf find them rather than looking at every byte
    for (let i = chunk.indexOf(DOT); i >= 0; i = chunk.indexOf(DOT, i + 1)) {
      const before = i === 0 ? this.last : chunk[i - 1];
      if (before === -1 || before === CR || before === LF) {
        out.push(chunk.subarray(start, i), DOT_BUF);
        start = i;
      }
    }
    out.push(start === 0 ? chunk : chunk.subarray(start));
    this.beforeLast = chunk.length >= 2 ? chunk[chunk.length - 2] : this.last;
    this.last = chunk[chunk.length - 1];
  }

  /**
   * Whether the output so far ends with CRLF (true when nothing was written), i.e.
   * whether the caller may send the final `.\r\n` directly or must add a CRLF first.
   */
  endsWithCrlf(): boolean {
    return this.last === -1 || (this.beforeLast === CR && this.last === LF);
  }
}
