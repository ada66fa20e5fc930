// The engine behind `flood` and `slowloris`: open the planned connections on
// schedule, hold each for its time (reopening one the target refuses or drops,
// as long as the hold lasts), and let go when the run's duration is over.
import { sleep } from '../clock.ts';
import type { HolderPlan, PlannedConnection } from '../plan.ts';
import { Tasks, type ActorContext } from './context.ts';
import { Session } from './session.ts';

/** What the actor does with a greeted connection until `until` aborts or the hold ends. */
export type HoldBehaviour = (session: Session, holdUntil: number, stop: AbortSignal) => Promise<void>;

export async function runHolder(ctx: ActorContext<HolderPlan>, behaviour: HoldBehaviour): Promise<void> {
  const { plan, clock } = ctx;
  const spec = plan.spec;
  const tasks = new Tasks();

  const holdOne = async (c: PlannedConnection) => {
    const until = c.t + c.holdMs;
    // bounded: at most one try per `reconnect` over the hold, plus the first
    const maxTries = Math.ceil(c.holdMs / Math.max(50, spec.reconnect)) + 1;
    for (let tries = 0; tries < maxTries && !ctx.ending.aborted && ctx.elapsed() < until; tries++) {
      const opened = await Session.open(ctx, c.client, { timeoutMs: spec.timeout });
      if (opened.ok) {
        await behaviour(opened.session, until, ctx.ending);
        if (!opened.session.closed) {
          // let go politely when the hold is over; a dripping slowloris may be mid-line
          if (spec.kind === 'flood') await opened.session.quit();
          else opened.session.destroy();
          return;
        }
      }
      if (!(await sleep(clock, spec.reconnect, ctx.ending))) return;
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
