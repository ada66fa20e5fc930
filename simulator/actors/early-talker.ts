// A bot that does not wait for the banner: it speaks right after connecting.
// A proxy with a greet pause (Postfix postscreen's pregreet test) answers 554
// and closes; one without greets it like anybody else.
import { sleep } from '../clock.ts';
import type { TalkerPlan } from '../plan.ts';
import { Tasks, type ActorContext } from './context.ts';
import { Session } from './session.ts';

export async function runEarlyTalker(ctx: ActorContext<TalkerPlan>): Promise<void> {
  const { plan, bus } = ctx;
  const spec = plan.spec;
  const tasks = new Tasks();
  const talk = async (client: number) => {
    const opened = await Session.open(ctx, client, { timeoutMs: spec.timeout, early: spec.say + '\r\n' });
    const address = plan.clients[client];
    if (!opened.ok) {
      const outcome = opened.info.code === null ? (opened.info.reason?.includes('timeout') ? 'timeout' : 'closed') : 'refused';
      bus.emit('early.result', { actor: plan.name, client: address, outcome, code: opened.info.code });
      return;
    }
    bus.emit('early.result', { actor: plan.name, client: address, outcome: 'greeted', code: 220 });
    // the answer to what it said too early
    opened.session.note('ehlo', await opened.session.conn.read(spec.timeout));
    await opened.session.quit();
  };
  for (const c of plan.connections) {
    if (!(await sleep(ctx.clock, c.t - ctx.elapsed(), ctx.ending))) break;
    tasks.add(talk(c.client));
  }
  await tasks.all();
}
