// A DoS worm: opens as many connections as it can and holds them silently,
// so a proxy without per-client limits runs out of slots for everyone else.
import type { HolderPlan } from '../plan.ts';
import type { ActorContext } from './context.ts';
import { holdUntil, runHolder } from './holder.ts';

export function runFlood(ctx: ActorContext<HolderPlan>): Promise<void> {
  return runHolder(ctx, (session, until, stop) => holdUntil(ctx, session, until, stop));
}
