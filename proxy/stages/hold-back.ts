// Holds the head of a message back (up to `limit` bytes) so headers that depend on
// the whole message, such as X-Spam-Score, can still go in front of it. A message
// that fits is sent with those headers; a longer one is sent on from the limit with
// only the headers known at the start. This bounds the memory per transaction, and a
// HoldBudget bounds it for all of them: once the budget is spent, a message is sent
// on as if it were too long (its filters still refuse before the final dot; only the
// headers that need the whole message are left out).
import type { Stage } from './stage.ts';

/** The bytes all transactions of a process may hold back at once (`messages.holdBackTotal`). */
export class HoldBudget {
  used = 0;
  /** messages sent on early because the budget was spent */
  overflows = 0;

  constructor(public limit: number) {}

  take(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used -= bytes;
  }
}

export class HoldBack implements Stage {
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** of the held bytes, those counted in the budget */
  private taken = 0;
  private released = false;

  /**
   * @param head the header lines to put in front; `complete` tells whether the whole
   *   message was seen (so late verdicts such as a spam score are known)
   */
  constructor(
    private readonly limit: number,
    private readonly head: (complete: boolean) => string,
    private readonly budget: HoldBudget | null = null,
  ) {}

  write(chunk: Buffer, out: Buffer[]): void {
    if (this.released) return void out.push(chunk);
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes > this.limit) return this.release(false, out);
    if (!this.budget) return;
    if (this.budget.take(chunk.length)) this.taken += chunk.length;
    else {
      this.budget.overflows++;
      this.release(false, out);
    }
  }

  end(out: Buffer[]): void {
    if (!this.released) this.release(true, out);
  }

  /** The transaction is over however it ended: what is still held goes back to the budget. */
  dispose(): void {
    if (this.released) return;
    this.released = true;
    this.held = [];
    this.giveBack();
  }

  private release(complete: boolean, out: Buffer[]): void {
    this.released = true;
    out.push(Buffer.from(this.head(complete), 'latin1'), ...this.held);
    this.held = [];
    this.giveBack();
  }

  private giveBack(): void {
    this.budget?.give(this.taken);
    this.taken = 0;
  }
}
