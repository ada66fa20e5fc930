// Actors without the run engine: a few actor specs (as in a scenario's
// `actors:`) driven against any target, with the given mock backends feeding
// the same stream. What the integration tests and the capacity benchmark use.
import type { HostPort } from '../proxy/config/fields.ts';
import { wireBackend } from './backends.ts';
import { RealClock } from './clock.ts';
import { driveActors } from './drive.ts';
import { EventBus, type SimEvent } from './events.ts';
import { Ledger, type LedgerResult } from './ledger.ts';
import type { MockBackend } from './mock-backend.ts';
import { buildPlan, planSize, type Plan } from './plan.ts';
import { parseScenario } from './scenario/parse.ts';

export interface HarnessOptions {
  actors: unknown[];
  targets: HostPort[];
  duration: string | number;
  drain?: string | number;
  seed?: number;
  /** backends whose receipts count (wired to the stream under their names) */
  backends?: MockBackend[];
  signal?: AbortSignal;
}

export interface HarnessResult {
  plan: Plan;
  events: SimEvent[];
  ledger: LedgerResult;
  of<K extends SimEvent['type']>(type: K): Array<Extract<SimEvent, { type: K }>>;
}

export async function runActors(o: HarnessOptions): Promise<HarnessResult> {
  const scenario = parseScenario({ name: 'harness', seed: o.seed ?? 1, duration: o.duration, drain: o.drain ?? '2s', backends: [{ name: 'none' }], actors: o.actors });
  const plan = buildPlan(scenario);
  const clock = new RealClock();
  const origin = clock.now();
  const elapsed = () => clock.now() - origin;
  const bus = new EventBus(elapsed);
  const events: SimEvent[] = [];
  const ledger = new Ledger();
  bus.subscribe((e) => {
    events.push(e);
    ledger.consume(e);
  });
  for (const b of o.backends ?? []) wireBackend(b, bus);
  bus.emit('run.start', {
    scenario: scenario.name,
    description: '',
    lesson: '',
    seed: plan.seed,
    durationMs: plan.durationMs,
    drainMs: plan.drainMs,
    target: o.targets.map((t) => `${t.host}:${t.port}`).join(', '),
    proxyConfig: null,
    actors: plan.actors.map((a) => ({ name: a.name, kind: a.kind, clients: a.clients.length, planned: planSize(a) })),
    backends: (o.backends ?? []).map((b) => ({ name: b.name, address: b.address, capacity: 0 })),
    thresholds: [],
  });
  const { interrupted } = await driveActors({ plan, bus, clock, elapsed, targets: o.targets, signal: o.signal });
  bus.emit('run.end', { elapsedMs: Math.round(elapsed()), interrupted });
  return {
    plan,
    events,
    ledger: ledger.result(),
    of: (type) => events.filter((e) => e.type === type) as never,
  };
}
