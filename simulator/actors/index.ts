// The actor kinds, registered by name (the `kind:` of a scenario).
import type { ActorPlan } from '../plan.ts';
import type { ActorKind } from '../scenario/schema.ts';
import type { ActorContext } from './context.ts';
import { runEarlyTalker } from './early-talker.ts';
import { runFlood } from './flood.ts';
import { runLegit } from './legit.ts';
import { runRelayProber } from './relay-prober.ts';
import { runSlowloris } from './slowloris.ts';
import { runSmuggler } from './smuggler.ts';
import { runSpammer } from './spammer.ts';
import { runSpoofer } from './spoofer.ts';
import { runWorm } from './worm.ts';

type Runner = (ctx: ActorContext<never>) => Promise<void>;

export const ACTORS: Record<ActorKind, Runner> = {
  legit: runLegit as Runner,
  spammer: runSpammer as Runner,
  worm: runWorm as Runner,
  spoofer: runSpoofer as Runner,
  flood: runFlood as Runner,
  slowloris: runSlowloris as Runner,
  'early-talker': runEarlyTalker as Runner,
  'relay-prober': runRelayProber as Runner,
  smuggler: runSmuggler as Runner,
};

export function runActor(ctx: ActorContext<ActorPlan>): Promise<void> {
  return ACTORS[ctx.plan.kind](ctx as ActorContext<never>);
}
