// The policy contract (Haraka's hooks without its tri-state returns): a policy looks at
// a context and answers continue or refuse with a reason; only proxy/replies.ts turns
// a reason into an SMTP reply.
import type { ProxyConfig } from '../config/schema.ts';
import type { ReplyReason } from '../replies.ts';
import type { CounterStore } from '../store/store.ts';

export type Verdict = { action: 'continue' } | { action: 'refuse'; reason: ReplyReason; detail?: string };

/**
 * What a single policy may answer. `accept` admits at once and skips the remaining
 * policies of the stage (the allow list); runPolicies reports it as `continue`, so
 * callers only ever see the two outcomes of Verdict.
 */
export type PolicyVerdict = Verdict | { action: 'accept' };

export interface PolicyContext {
  clientIp: string;
  now: number;
  store: CounterStore;
  config: ProxyConfig;
  session?: { authenticated: boolean; recipients: number };
  /** Envelope sender of the transaction ('' for the null sender). */
  sender?: string;
  /** The recipient being judged (RCPT stage). */
  recipient?: string;
  /** Connections open now, this one not counted. */
  globalConnections?: number;
  /** The client delivered mail recently (the reserve of connections.max is open to it). */
  knownGood?: boolean;
  /**
   * Store slots taken by policies (the per-client connection slot). The caller
   * releases them with releaseHeld() when the connection closes; runPolicies releases
   * them itself when a later policy refuses, so a refused connection holds nothing.
   */
  held?: string[];
}

export type Policy = (ctx: PolicyContext) => Promise<PolicyVerdict>;

export const CONTINUE: Verdict = Object.freeze({ action: 'continue' });
export const ACCEPT: PolicyVerdict = Object.freeze({ action: 'accept' });

export function refuse(reason: ReplyReason, detail?: string): Verdict {
  return detail === undefined ? { action: 'refuse', reason } : { action: 'refuse', reason, detail };
}

/** Runs policies in order; the first verdict that is not `continue` wins. */
export async function runPolicies(policies: readonly Policy[], ctx: PolicyContext): Promise<Verdict> {
  const heldBefore = ctx.held?.length ?? 0;
  for (const policy of policies) {
    const verdict = await policy(ctx);
    if (verdict.action === 'continue') continue;
    if (verdict.action === 'accept') return CONTINUE;
    await releaseHeld(ctx, heldBefore);
    return verdict;
  }
  return CONTINUE;
}

/** Frees the slots policies took for this context (from index `from` on). */
export async function releaseHeld(ctx: PolicyContext, from = 0): Promise<void> {
  const held = ctx.held;
  if (!held) return;
  const keys = held.splice(from);
  for (const key of keys) await ctx.store.release(key);
}
