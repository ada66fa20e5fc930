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
  /** The previous byte ended a line (true at the start: the message begins a line). */
  private lineStart = true;
  private last2 = [-1, -1];

  write(chunk: Buffer, out: Buffer[]): void {
    if (chunk.length === 0) return;
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (b === DOT && (i === 0 ? this.lineStart : chunk[i - 1] === CR || chunk[i - 1] === LF)) {
        out.push(chunk.subarray(start, i), DOT_BUF);
        start = i;
      }
    }
    out.push(start === 0 ? chunk : chunk.subarray(start));
    const last = chunk[chunk.length - 1];
    this.lineStart = last === CR || last === LF;
    this.last2 = chunk.length >= 2 ? [chunk[chunk.length - 2], last] : [this.last2[1], last];
  }

  /**
   * Whether the output so far ends with CRLF (true when nothing was written), i.e.
   * whether the caller may send the final `.\r\n` directly or must add a CRLF first.
   */
  endsWithCrlf(): boolean {
    return (this.last2[0] === -1 && this.last2[1] === -1) || (this.last2[0] === CR && this.last2[1] === LF);
  }
}
