// The deterministic plan of a run: from the scenario and its seed, for every
// actor the client addresses, and when which client sends what (ids, sizes,
// recipients) or opens which connection. Same seed, same plan: the actors only
// execute it, so two proxy configs can be compared on the very same traffic.
import { arrivalTimes } from './arrivals.ts';
import { int, pick, rng, type Random } from './random.ts';
import { draw } from './scenario/ranges.ts';
import type { Scenario } from './scenario/parse.ts';
import type { ActorKind, ActorSpecOf, MailerSpec, RelayTrick, SmugglingVariant } from './scenario/schema.ts';

export interface PlannedMessage {
  t: number;
  client: number;
  id: string;
  /** the envelope sender */
  from: string;
  /** the From header when it is not the envelope sender (a spoofer's victim) */
  headerFrom?: string;
  to: string[];
  /** target size of the whole message in bytes */
  size: number;
  attachments: Array<{ name: string; size: number }>;
}

export interface PlannedConnection {
  t: number;
  client: number;
  /** how long to hold it (flood, slowloris) */
  holdMs: number;
}

/**
 * A connection a flood or a slowloris holds. `tries` are the planned times of each
 * (re)connect while the hold lasts, `reconnect` apart on the plan's clock: how many
 * times a refused connection comes back is the plan's, never a race between wall
 * time and the end of the hold (a workshop's pause at a mark changes nothing).
 */
export interface PlannedHold extends PlannedConnection {
  tries: number[];
}

export interface PlannedProbe {
  t: number;
  client: number;
  tricks: RelayTrick[];
}

export interface PlannedSmuggle {
  t: number;
  client: number;
  variant: SmugglingVariant;
  id: string;
  smuggledId: string;
}

interface ActorPlanOf<K extends ActorKind> {
  name: string;
  kind: K;
  index: number;
  clients: string[];
  spec: ActorSpecOf<K>;
}

export type MailerPlan = ActorPlanOf<'legit' | 'spammer' | 'worm' | 'spoofer'> & { spec: MailerSpec; messages: PlannedMessage[] };
export type HolderPlan = ActorPlanOf<'flood' | 'slowloris'> & { connections: PlannedHold[] };
export type TalkerPlan = ActorPlanOf<'early-talker'> & { connections: PlannedConnection[] };
export type ProberPlan = ActorPlanOf<'relay-prober'> & { probes: PlannedProbe[] };
export type SmugglerPlan = ActorPlanOf<'smuggler'> & { smuggles: PlannedSmuggle[] };
export type ActorPlan = MailerPlan | HolderPlan | TalkerPlan | ProberPlan | SmugglerPlan;

export interface Plan {
  scenario: Scenario;
  seed: number;
  durationMs: number;
  drainMs: number;
  actors: ActorPlan[];
}

/**
 * Distinct per actor: 127.<10+actor>.<n / 250>.<n % 250 + 1>, or, spread over
 * `networks` /24s, 127.<10+actor>.<n % networks>.<n / networks + 1>.
 */
export function clientAddress(actorIndex: number, n: number, networks?: number): string {
  if (networks) return `127.${actorIndex + 10}.${n % networks}.${Math.floor(n / networks) + 1}`;
  return `127.${actorIndex + 10}.${Math.floor(n / 250)}.${(n % 250) + 1}`;
}

export interface PlanOptions {
  seed?: number;
  durationMs?: number;
}

export function buildPlan(scenario: Scenario, options: PlanOptions = {}): Plan {
  const seed = options.seed ?? scenario.seed;
  const durationMs = options.durationMs ?? scenario.duration;
  const actors = scenario.actors.map((spec, index): ActorPlan => {
    const random = rng(seed, `actor:${spec.name}`);
    const clients = spec.addresses ? [...spec.addresses] : Array.from({ length: spec.clients }, (_, n) => clientAddress(index, n, spec.networks));
    const from = Math.min(spec.start, durationMs);
    const to = Math.min(spec.stop ?? durationMs, durationMs);
    const base = { name: spec.name, index, clients };
    // which client makes the n-th arrival: at random, or by the actor's shares
    const clientOf = spec.shares ? sharedClients(spec.shares, rng(seed, `clients:${spec.name}`)) : () => int(random, 0, clients.length - 1);
    switch (spec.kind) {
      case 'legit':
      case 'spammer':
      case 'worm':
      case 'spoofer': {
        const times = arrivalTimes(random, spec.arrival, spec.rate, from, to);
        return { ...base, kind: spec.kind, spec, messages: times.map((t, seq) => plannedMessage(random, spec, clientOf, t, seq)) } as MailerPlan;
      }
      case 'flood':
      case 'slowloris': {
        const hold = spec.hold ?? to - from;
        const connections: PlannedHold[] = [];
        for (let k = 0; k < spec.connections; k++) {
          for (let c = 0; c < clients.length; c++) {
            const t = from + Math.floor((spec.rampUp * k) / spec.connections) + Math.floor(random() * 10);
            if (t >= to) continue;
            const holdMs = Math.max(0, Math.min(hold, to - t));
            connections.push({ t, client: c, holdMs, tries: tryTimes(t, holdMs, spec.reconnect) });
          }
        }
        connections.sort((a, b) => a.t - b.t || a.client - b.client);
        return { ...base, kind: spec.kind, spec, connections } as HolderPlan;
      }
      case 'early-talker': {
        const times = arrivalTimes(random, spec.arrival, spec.rate, from, to);
        return { ...base, kind: spec.kind, spec, connections: times.map((t) => ({ t, client: clientOf(), holdMs: 0 })) };
      }
      case 'relay-prober': {
        const times = arrivalTimes(random, spec.arrival, spec.rate, from, to);
        return { ...base, kind: spec.kind, spec, probes: times.map((t) => ({ t, client: clientOf(), tricks: [...spec.tricks] })) };
      }
      case 'smuggler': {
        const times = arrivalTimes(random, spec.arrival, spec.rate, from, to);
        return {
          ...base,
          kind: spec.kind,
          spec,
          smuggles: times.map((t, seq) => ({
            t,
            client: clientOf(),
            // cycle so that every variant is tried even in a short run
            variant: spec.variants[seq % spec.variants.length],
            id: `${spec.name}-${seq + 1}`,
            smuggledId: `${spec.name}-${seq + 1}-smuggled`,
          })),
        };
      }
    }
  });
  return { scenario, seed, durationMs, drainMs: scenario.drain, actors };
}

/** The first connect at `t`, then one every `reconnect` while the hold lasts. */
function tryTimes(t: number, holdMs: number, reconnect: number): number[] {
  const step = Math.max(50, reconnect);
  const out = [t];
  for (let at = t + step; at < t + holdMs; at += step) out.push(at);
  return out;
}

const LOCAL_PARTS = ['info', 'sales', 'alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory', 'oscar', 'peggy', 'trent'];

/**
 * Client i makes shares[i] of the arrivals, in a seeded shuffled order; arrivals beyond
 * their sum pick a client in proportion to the shares.
 */
export function sharedClients(shares: readonly number[], random: Random): () => number {
  const order = shares.flatMap((n, i) => Array<number>(n).fill(i));
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const total = order.length;
  let next = 0;
  return () => {
    if (next < total) return order[next++];
    let x = random() * total;
    for (const [i, n] of shares.entries()) if ((x -= n) < 0) return i;
    return shares.length - 1;
  };
}

function plannedMessage(random: Random, spec: MailerSpec, clientOf: () => number, t: number, seq: number): PlannedMessage {
  const client = clientOf();
  const count = Math.max(1, draw(random, spec.recipients));
  const to = new Set<string>();
  while (to.size < count) to.add(`${pick(random, LOCAL_PARTS)}${int(random, 1, 9999)}@${pick(random, spec.domains)}`);
  const senderDomain = spec.senderDomain ?? `${spec.name}.sender.test`;
  let from = spec.kind === 'legit' ? `${spec.name}${client + 1}@${senderDomain}` : `${pick(random, LOCAL_PARTS)}${int(random, 1, 99999)}@${senderDomain}`;
  // a spoofer claims its victim in From; in the envelope too unless it has a domain of its own
  const headerFrom = spec.kind === 'spoofer' ? spec.impersonate : undefined;
  if (spec.kind === 'spoofer' && !spec.senderDomain) from = spec.impersonate;
  return {
    t,
    client,
    id: `${spec.name}-${seq + 1}`,
    from,
    ...(headerFrom ? { headerFrom } : {}),
    to: [...to],
    size: draw(random, spec.size),
    attachments: spec.attachments.map((name) => ({ name, size: draw(random, spec.attachmentSize) })),
  };
}

/** How many things an actor's plan will do (messages, connections, probes, smuggles). */
export function planSize(actor: ActorPlan): number {
  switch (actor.kind) {
    case 'legit':
    case 'spammer':
    case 'worm':
    case 'spoofer':
      return actor.messages.length;
    case 'flood':
    case 'slowloris':
    case 'early-talker':
      return actor.connections.length;
    case 'relay-prober':
      return actor.probes.length;
    case 'smuggler':
      return actor.smuggles.length;
  }
}
