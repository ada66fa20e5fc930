// The per-kind counts of what happened, in one shape for the log and for a run of the
// scenario made from it, so the two can be set side by side: how many addresses, the
// connections and how many were refused, the attempts of the kind's own weapon (the
// legitimate senders' messages, a spammer's transactions, a flood's connections, a
// prober's relay tries) and how many got through.
import type { ActorKind } from '../scenario/schema.ts';
import type { RunSummary } from '../summary.ts';
import type { ClientRecord } from './classify.ts';

export interface KindCounts {
  addresses: number;
  connections: number;
  refusedConnections: number;
  /** messages (legit, spammer, worm), relay tries, connections (flood, slowloris, early-talker), smuggling tries */
  attempts: number;
  /** messages accepted, relay tries accepted, connections greeted */
  accepted: number;
  /** messages that reached a mail server */
  delivered: number;
}

export type Counts = Partial<Record<ActorKind, KindCounts>>;

/** What "attempts" counts for each kind (the lesson says it). */
export const ATTEMPTS: Record<ActorKind, string> = {
  legit: 'messages',
  spammer: 'messages',
  worm: 'messages',
  spoofer: 'messages',
  flood: 'connections',
  slowloris: 'connections',
  'early-talker': 'connections',
  'relay-prober': 'relay tries',
  smuggler: 'smuggling tries',
};

const MAILERS = new Set<ActorKind>(['legit', 'spammer', 'worm', 'spoofer']);
const empty = (): KindCounts => ({ addresses: 0, connections: 0, refusedConnections: 0, attempts: 0, accepted: 0, delivered: 0 });

/** A client's own weapon, as moments of the log: what the scenario replays as arrivals. */
export function arrivalsOf(r: ClientRecord, kind: ActorKind): number[] {
  const refusedAtConnect = r.sessions.filter((s) => s.refused && s.transactions.length === 0).map((s) => s.start);
  switch (kind) {
    case 'legit':
      // a message refused for now is tried again: only the queued and the refused for good are messages
      return [...r.messages.filter((m) => m.received).map((m) => m.t), ...r.transactions.filter((t) => permanentlyRefused(t)).map((t) => t.t)].sort((a, b) => a - b);
    case 'spammer':
    case 'worm':
    case 'spoofer':
      // each refused connection was a message that never got to MAIL
      return [...r.transactions.map((t) => t.t), ...refusedAtConnect].sort((a, b) => a - b);
    case 'relay-prober':
      return r.transactions.map((t) => t.t);
    default:
      return [...r.connections];
  }
}

function permanentlyRefused(t: { queueId: string | null; refusedRcpts: Array<{ refusal: string }>; mailRefusal: string | null }): boolean {
  // a 4xx-only refusal (rate limits, greylisting) is retried; a relay, user or content refusal is final
  const final = ['relay-denied', 'recipient-unknown', 'sender', 'content', 'worm', 'dnsbl', 'denied'];
  return t.queueId === null && (t.refusedRcpts.some((r) => final.includes(r.refusal)) || (t.mailRefusal !== null && final.includes(t.mailRefusal)));
}

export function countsOfLog(records: ReadonlyArray<ClientRecord & { kind: ActorKind }>): Counts {
  const out: Counts = {};
  for (const r of records) {
    const c = (out[r.kind] ??= empty());
    c.addresses++;
    c.connections += r.connections.length;
    const refused = Object.values(r.refusedConnections).reduce((s, n) => s + (n ?? 0), 0);
    c.refusedConnections += refused;
    c.attempts += arrivalsOf(r, r.kind).length;
    if (MAILERS.has(r.kind)) c.accepted += r.messages.filter((m) => m.received && !m.refusal).length;
    else if (r.kind === 'relay-prober') c.accepted += r.transactions.filter((t) => t.queueId !== null).length;
    else c.accepted += r.connections.length - refused;
    c.delivered += r.messages.filter((m) => m.sent > 0).length;
  }
  return out;
}

export function countsOfRun(summary: RunSummary): Counts {
  const out: Counts = {};
  for (const a of Object.values(summary.actors)) {
    const kind = a.kind as ActorKind;
    const c = (out[kind] ??= empty());
    c.addresses += a.clients;
    c.connections += a.connections.attempted;
    c.refusedConnections += a.connections.refused;
    c.delivered += a.messages.delivered;
    if (MAILERS.has(kind)) {
      c.attempts += a.messages.attempted;
      c.accepted += a.messages.accepted;
    } else if (kind === 'relay-prober') {
      c.attempts += a.relay?.probes ?? 0;
      c.accepted += a.relay?.accepted ?? 0;
    } else if (kind === 'smuggler') {
      c.attempts += a.smuggling?.sent ?? 0;
      c.accepted += a.smuggling?.smuggled ?? 0;
    } else {
      c.attempts += a.connections.attempted;
      c.accepted += a.connections.greeted;
    }
  }
  return out;
}
