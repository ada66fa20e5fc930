// The SMTP smuggling guard (DESIGN.md "No SMTP smuggling"). The input is the message
// as smtp-server hands it over (after dot-unstuffing); a bare CR or LF in it may look
// like a line end to the backend, and together with a dot become an end-of-data the
// proxy never saw.
//
// strict:    the first bare CR, bare LF or NUL fails the stream with reason
//            `bad-line-ending`; nothing of the chunk holding it is passed on.
// normalize: bare CR and bare LF each become CRLF (so `\r\r\n` is two line ends),
//            NUL is dropped (it has no place in a text line and some MTAs stop at it).
//            A dot this brings to the start of a line is escaped by the dot-stuff stage.
//
// A CR at the end of a chunk is held back until the next byte shows whether it starts
// a CRLF, so any split of the input gives the same output.
import type { Stage } from './stage.ts';
import { stageError } from './stage-error.ts';

const CR = 0x0d;
const LF = 0x0a;
const NUL = 0x00;
const CRLF = Buffer.from('\r\n');

export type LineEndingMode = 'strict' | 'normalize';

export class LineEndingGuard implements Stage {
  private pendingCR = false;
  private offset = 0;

  constructor(private readonly mode: LineEndingMode) {}

  write(chunk: Buffer, out: Buffer[]): void {
    if (chunk.length === 0) return;
    let start = 0;
    let i = 0;
    if (this.pendingCR) {
      this.pendingCR = false;
      if (chunk[0] === LF) i = start = 1;
      else if (this.mode === 'strict') throw this.bad('bare CR', 0);
      out.push(CRLF);
    }
    for (; i < chunk.length; i++) {
      const b = chunk[i];
      if (b === CR) {
        if (i + 1 === chunk.length) {
          out.push(chunk.subarray(start, i));
          start = chunk.length;
          this.pendingCR = true;
        } else if (chunk[i + 1] === LF) {
          i++;
        } else {
          if (this.mode === 'strict') throw this.bad('bare CR', i);
          out.push(chunk.subarray(start, i), CRLF);
          start = i + 1;
        }
      } else if (b === LF) {
        if (this.mode === 'strict') throw this.bad('bare LF', i);
        out.push(chunk.subarray(start, i), CRLF);
        start = i + 1;
      } else if (b === NUL) {
        if (this.mode === 'strict') throw this.bad('NUL', i);
        out.push(chunk.subarray(start, i));
        start = i + 1;
      }
    }
    if (start < chunk.length) out.push(start === 0 ? chunk : chunk.subarray(start));
    this.offset += chunk.length;
  }

  end(out: Buffer[]): void {
    if (!this.pendingCR) return;
    this.pendingCR = false;
    if (this.mode === 'strict') throw this.bad('bare CR', 0);
    out.push(CRLF);
  }

  private bad(what: string, at: number): Error {
    return stageError('bad-line-ending', `${what} at byte ${this.offset + at}`);
  }
}
