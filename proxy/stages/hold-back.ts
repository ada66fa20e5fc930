// Holds the head of a message back (up to `limit` bytes) so headers that depend on
// the whole message, such as X-Spam-Score, can still go in front of it. A message
// that fits is sent with those headers; a longer one is sent on from the limit with
// only the headers known at the start. This bounds the memory per transaction.
import { Transform, type TransformCallback } from 'node:stream';

export class HoldBack extends Transform {
  private held: Buffer[] = [];
  private heldBytes = 0;
  private released = false;

  /**
   * @param head the header lines to put in front; `complete` tells whether the whole
   *   message was seen (so late verdicts such as a spam score are known)
   */
  constructor(
    private readonly limit: number,
    private readonly head: (complete: boolean) => string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    if (this.released) return callback(null, chunk);
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes <= this.limit) return callback();
    this.release(false);
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (!this.released) this.release(true);
    callback();
  }

  private release(complete: boolean): void {
    this.released = true;
    this.push(Buffer.from(this.head(complete), 'latin1'));
    for (const chunk of this.held) this.push(chunk);
    this.held = [];
  }
}
