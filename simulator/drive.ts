// Driving a plan's actors through a run's phases: running for the duration,
// then draining (no new arrivals; queued mail and retries finish), bounded by
// the drain, then stopping (every connection left is destroyed). Shared by the
// run engine, the test harness and the benchmark.
import { setMaxListeners } from 'node:events';
import type { HostPort } from '../proxy/config/fields.ts';
import type { ActorContext } from './actors/context.ts';
import { runActor } from './actors/index.ts';
import { sleep, type Clock } from './clock.ts';
import type { EventBus } from './events.ts';
import type { Plan } from './plan.ts';
import { rng } from './random.ts';
import type { SmtpConnection } from './smtp/connection.ts';

export interface DriveOptions {
  plan: Plan;
  bus: EventBus;
  clock: Clock;
  elapsed: () => number;
  targets: HostPort[];
  /** aborting it stops everything at once (an interrupt) */
  signal?: AbortSignal;
  /** after the actors drained and before stopping: more waiting, still within the drain (external targets) */
  settle?: (deadline: number, signal: AbortSignal) => Promise<void>;
}

export async function driveActors(o: DriveOptions): Promise<{ interrupted: boolean }> {
  const { plan, bus, clock } = o;
  const ending = new AbortController();
  const abort = new AbortController();
  setMaxListeners(0, ending.signal, abort.signal);
  let interrupted = false;
  const onInterrupt = () => {
    interrupted = true;
    ending.abort();
    abort.abort();
  };
  if (o.signal?.aborted) onInterrupt();
  o.signal?.addEventListener('abort', onInterrupt, { once: true });

  const live: Array<Set<SmtpConnection>> = [];
  let conn = 0;
  const done = Promise.all(
    plan.actors.map((actorPlan) => {
      const own = new Set<SmtpConnection>();
      live.push(own);
      const ctx: ActorContext = {
        plan: actorPlan,
        bus,
        clock,
        elapsed: o.elapsed,
        targets: o.targets,
        ending: ending.signal,
        abort: abort.signal,
        random: rng(plan.seed, `runtime:${actorPlan.name}`),
        live: own,
        nextConn: () => ++conn,
      };
      return runActor(ctx).catch((err: Error) => {
        bus.emit('proxy.event', { instance: -1, name: 'actor-error', data: { actor: actorPlan.name, message: err.message } });
      });
    }),
  );

  if (await sleep(clock, plan.durationMs - o.elapsed(), abort.signal)) {
    ending.abort();
    bus.emit('run.phase', { phase: 'draining' });
    const deadline = clock.now() + plan.drainMs;
    const drained = await Promise.race([done.then(() => true), sleep(clock, plan.drainMs, abort.signal).then(() => false)]);
    if (drained && o.settle) await o.settle(deadline, abort.signal);
  }
  bus.emit('run.phase', { phase: 'stopping' });
  ending.abort();
  abort.abort();
  for (const set of live) for (const c of set) c.destroy();
  // actors return promptly once aborted; the bound only guards against a bug hanging the run
  await Promise.race([done, new Promise((r) => setTimeout(r, 5000).unref())]);
  o.signal?.removeEventListener('abort', onInterrupt);
  return { interrupted };
}
