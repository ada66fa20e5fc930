// The DATA payload as a client sends it (RFC 5321 4.1.1.4, 4.5.2): only CRLF.CRLF
// ends it, and a dot that starts a line is dropped (dot-unstuffing). A bare LF or CR
// never ends a line here, so `\n.\n` and its SMTP smuggling kin stay inside the
// message, where the line-ending guard refuses or normalizes them (stages/).
//
// Pure and incremental: any split of the same bytes gives the same pieces and the
// same end. The message handed on keeps the CRLF of its last line.

const CR = 0x0d;
const LF = 0x0a;
const LINE_START_DOT = Buffer.from('\r\n.');
/** the payload starts at a line start: as if "\r\n" came before it (never handed on) */
const VIRTUAL_START = Buffer.from('\r\n');

export class DataReader {
  private carry: Buffer = VIRTUAL_START;
  /** bytes of the virtual start still at the front of what is handed on */
  private virtual = VIRTUAL_START.length;
  done = false;

  /**
   * Takes the next bytes; the message's pieces go to `out`. Returns the bytes after
   * the final dot once the end is found (maybe empty), null while the message goes on.
   */
  feed(chunk: Buffer, out: Buffer[]): Buffer | null {
    if (this.done) return chunk;
    const data = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = EMPTY;
    let pos = 0;
    let from = 0;
    for (;;) {
      const i = data.indexOf(LINE_START_DOT, from);
      if (i < 0) break;
      const dot = i + 2;
      if (dot + 1 >= data.length || (data[dot + 1] === CR && dot + 2 >= data.length)) {
        // "\r\n." or "\r\n.\r" at the very end: the next bytes decide
        this.emit(data.subarray(pos, i), out);
        this.carry = data.subarray(i);
        return null;
      }
      if (data[dot + 1] === CR && data[dot + 2] === LF) {
        this.emit(data.subarray(pos, dot), out);
        this.done = true;
        return data.subarray(dot + 3);
      }
      // a stuffed dot: the line goes on without it
      this.emit(data.subarray(pos, dot), out);
      pos = dot + 1;
      from = dot + 1;
    }
    // hold back what may begin a line-start dot: a CR, or a CRLF, at the end
    let hold = 0;
    if (data.length >= 1 && data[data.length - 1] === CR) hold = 1;
    else if (data.length >= 2 && data[data.length - 1] === LF && data[data.length - 2] === CR) hold = 2;
    if (data.length - hold < pos) hold = data.length - pos;
    this.emit(data.subarray(pos, data.length - hold), out);
    this.carry = hold ? data.subarray(data.length - hold) : EMPTY;
    return null;
  }

  private emit(piece: Buffer, out: Buffer[]): void {
    if (this.virtual > 0) {
      const drop = Math.min(this.virtual, piece.length);
      this.virtual -= drop;
      piece = piece.subarray(drop);
    }
    if (piece.length) out.push(piece);
  }
}

const EMPTY = Buffer.alloc(0);
