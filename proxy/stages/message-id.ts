// Notes the message's Message-ID header for the transaction's log line, so a message
// can be followed from the sender's log through the proxy's into the backend's. It
// reads only the top header block (up to HEADER_BYTES), then lets the rest pass
// untouched; the bytes themselves always pass unchanged.
import { LineSplitter } from '../filters/mime-scan.ts';
import type { Stage } from './stage.ts';

/** How much of a header block is looked through for the Message-ID (Postfix's header_size_limit is 100 KB). */
export const HEADER_BYTES = 100 * 1024;

/** Longer ids are cut: a log line is no place for a header someone made up to fill it. */
export const MAX_ID = 512;

export class MessageIdPeek implements Stage {
  /** the header's value, unfolded and trimmed; null when the message has none */
  messageId: string | null = null;
  private done = false;
  private seen = 0;
  /** the Message-ID header is being read (folded lines may follow) */
  private reading = false;
  private readonly lines = new LineSplitter((piece, lineStart) => this.line(piece, lineStart));

  write(chunk: Buffer, out: Buffer[]): void {
    out.push(chunk);
    if (this.done) return;
    const room = HEADER_BYTES - this.seen;
    this.seen += Math.min(chunk.length, room);
    this.lines.write(chunk.length <= room ? chunk : chunk.subarray(0, room));
    if (this.seen >= HEADER_BYTES) this.done = true;
  }

  private line(piece: Buffer, lineStart: boolean): void {
    if (this.done) return;
    // a header line that went on past the piece length: not the Message-ID's start
    if (!lineStart) return;
    const text = piece.toString('latin1').replace(/\r?\n$/, '');
    if (text === '') {
      this.done = true; // the header block ended
      this.lines.stop();
      return;
    }
    if (/^[ \t]/.test(text)) {
      if (this.reading) this.append(text);
      return;
    }
    this.reading = false;
    if (this.messageId === null && /^message-id:/i.test(text)) {
      this.reading = true;
      this.messageId = '';
      this.append(text.slice(text.indexOf(':') + 1));
    }
  }

  private append(text: string): void {
    this.messageId = (this.messageId + ' ' + text).replace(/[\s\u0000-\u001f\u007f]+/g, ' ').trim().slice(0, MAX_ID);
  }
}
