// Holds the head of a message back (up to `limit` bytes) so headers that depend on
// the whole message, such as X-Spam-Score, can still go in front of it. A message
// that fits is sent with those headers; a longer one is sent on from the limit with
// only the headers known at the start. This bounds the memory per transaction.
import type { Stage } from './stage.ts';

export class HoldBack implements Stage {
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
  ) {}

  write(chunk: Buffer, out: Buffer[]): void {
    if (this.released) return void out.push(chunk);
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes > this.limit) this.release(false, out);
  }

  end(out: Buffer[]): void {
    if (!this.released) this.release(true, out);
  }

  private release(complete: boolean, out: Buffer[]): void {
    this.released = true;
    out.push(Buffer.from(this.head(complete), 'latin1'), ...this.held);
    this.held = [];
  }
}
