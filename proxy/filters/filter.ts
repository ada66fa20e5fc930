// The content filter contract: users add their own by implementing ContentFilter. A
// filter sees the message bytes as they stream (bounded memory is its own duty) and
// gives one verdict at the end.
import type { ReplyReason } from '../replies.ts';

export interface FilterContext {
  envelope: { from: string; to: string[] };
  clientIp: string;
}

export type FilterVerdict =
  | { action: 'accept'; headers?: Array<[string, string]> }
  | { action: 'refuse'; reason: ReplyReason; detail: string };

export interface FilterRun {
  /** Sees the message bytes as they stream. */
  write(chunk: Buffer): void;
  /** Final verdict. */
  end(): FilterVerdict;
}

export interface ContentFilter {
  name: string;
  start(ctx: FilterContext): FilterRun;
}
