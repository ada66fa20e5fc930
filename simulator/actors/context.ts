// What every actor gets from the run engine: its plan, the event bus, the clock,
// where to connect, and the two signals of a run's end: `ending` (the duration is
// over: no new work, let go of held connections) and `abort` (the drain is over,
// or the user interrupted: stop now).
import type { HostPort } from '../../proxy/config/fields.ts';
import type { Clock } from '../clock.ts';
import type { EventBus } from '../events.ts';
import type { ActorPlan } from '../plan.ts';
import type { Random } from '../random.ts';
import type { SmtpConnection } from '../smtp/connection.ts';

export interface ActorContext<P extends ActorPlan = ActorPlan> {
  plan: P;
  bus: EventBus;
  clock: Clock;
  /** ms since the run started (the `t` of events) */
  elapsed: () => number;
  /** client n connects to targets[n % targets.length] (several proxies: clients spread like MX) */
  targets: HostPort[];
  ending: AbortSignal;
  abort: AbortSignal;
  /** runtime jitter (backoff); seeded */
  random: Random;
  /** every open connection, so the engine can destroy what is left at the end */
  live: Set<SmtpConnection>;
  /** a connection id unique within the run */
  nextConn: () => number;
}

export type ActorRunner<P extends ActorPlan = ActorPlan> = (ctx: ActorContext<P>) => Promise<void>;

export function targetOf(ctx: ActorContext, client: number): HostPort {
  return ctx.targets[client % ctx.targets.length];
}

/** Tracks fire-and-forget tasks so an actor can wait for all of them, bounded by `abort`. */
export class Tasks {
  private running = new Set<Promise<void>>();

  add(task: Promise<void>): void {
    const p = task.catch(() => {}).finally(() => this.running.delete(p));
    this.running.add(p);
  }

  get size(): number {
    return this.running.size;
  }

  async all(): Promise<void> {
    while (this.running.size) await Promise.all([...this.running]);
  }
}
