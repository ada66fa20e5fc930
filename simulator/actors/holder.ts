// The engine behind `flood` and `slowloris`: open the planned connections on
// schedule, hold each for its time (reopening one the target refuses or drops at
// the plan's next try, as long as the hold lasts), and let go when the run's
// duration is over. Every (re)connect happens at a planned time, so how many
// connections a flood wave makes is the plan's, not the wall clock's.
import { sleep } from '../clock.ts';
import type { HolderPlan, PlannedHold } from '../plan.ts';
import { Tasks, type ActorContext } from './context.ts';
import { Session } from './session.ts';

/** What the actor does with a greeted connection until `until` aborts or the hold ends. */
export type HoldBehaviour = (session: Session, holdUntil: number, stop: AbortSignal) => Promise<void>;

export async function runHolder(ctx: ActorContext<HolderPlan>, behaviour: HoldBehaviour): Promise<void> {
  const { plan, clock } = ctx;
  const spec = plan.spec;
  const tasks = new Tasks();

  const holdOne = async (c: PlannedHold) => {
    const until = c.t + c.holdMs;
    for (let i = 0; i < c.tries.length; i++) {
      if (!(await sleep(clock, c.tries[i] - ctx.elapsed(), ctx.ending))) return;
      const opened = await Session.open(ctx, c.client, { timeoutMs: spec.timeout });
      if (!opened.ok) continue;
      await behaviour(opened.session, until, ctx.ending);
      if (!opened.session.closed) {
        // let go politely when the hold is over; a dripping slowloris may be mid-line
        if (spec.kind === 'flood') await opened.session.quit();
        else opened.session.destroy();
        return;
      }
      // the target dropped a held connection: come back at the next try still ahead
      while (i + 1 < c.tries.length && c.tries[i + 1] < ctx.elapsed()) i++;
    }
  };

  for (const c of plan.connections) {
    if (!(await sleep(clock, c.t - ctx.elapsed(), ctx.ending))) break;
    tasks.add(holdOne(c));
  }
  await tasks.all();
}

/** Sleeps until the hold is over, the connection closes, or `stop` aborts. */
export function holdUntil(ctx: ActorContext, session: Session, until: number, stop: AbortSignal): Promise<void> {
  return Promise.race([sleep(ctx.clock, until - ctx.elapsed(), stop).then(() => {}), session.conn.whenClosed()]);
}
