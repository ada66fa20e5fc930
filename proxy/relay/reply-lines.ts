// Bytes from an SMTP server gathered into whole replies (the lines of a multi-line
// reply together), however the reads split them. The proxy's backend client and the
// simulator's client both read replies through it; each judges the lines its own way.

export class ReplyLines {
  private buffer = '';
  private lines: string[] = [];

  /** Bytes of an unfinished line (a peer that never ends its line is cut off by the caller). */
  get pendingBytes(): number {
    return this.buffer.length;
  }

  /** Calls `onReply` with the lines (CR LF removed) of each reply `data` completes. */
  feed(data: Buffer, onReply: (lines: string[]) => void): void {
    this.buffer += data.toString('latin1');
    let start = 0;
    for (;;) {
      const nl = this.buffer.indexOf('\n', start);
      if (nl < 0) break;
      const end = nl > start && this.buffer.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      const line = this.buffer.slice(start, end);
      start = nl + 1;
      this.lines.push(line);
      if (line.length >= 4 && line[3] === '-') continue;
      const lines = this.lines;
      this.lines = [];
      onReply(lines);
    }
    this.buffer = this.buffer.slice(start);
  }
}
