// Ground truth, not claims: joins what every actor was told (250, 4xx, 5xx,
// refused, nothing) with the ids the mock backends actually received. A pure
// consumer of the event stream, so a recorded events.jsonl yields the same ledger.
import type { MessageOutcome, SimEvent } from './events.ts';
import { percentile } from './thresholds.ts';

export interface ActorLedger {
  name: string;
  kind: string;
  clients: number;
  messages: { attempted: number; accepted: number; delivered: number; deferred: number; rejected: number; abandoned: number; lost: number; duplicates: number };
  connections: { attempted: number; refused: number; greeted: number };
  latencyMs: { p50: number | null; p95: number | null; p99: number | null };
  /** every delivered message's latency, ms (first attempt to backend receipt) */
  latencies: number[];
  bytesDelivered: number;
  /** refusals by reason (the proxy's label, or the code for other targets) */
  refusals: Record<string, number>;
  relay: { probes: number; accepted: number; acceptedTricks: string[] };
  smuggling: { sent: number; smuggled: number; smuggledVariants: string[] };
  early: { refused: number; greeted: number; other: number };
}

export interface BackendLedger {
  name: string;
  received: number;
  peakConnections: number;
  refusedConnections: number;
  tempfailed: number;
  rejected: number;
}

export interface LedgerTotals {
  acceptedByProxy: number;
  receivedByBackends: number;
  lost: number;
  duplicates: number;
  /** received although the sender was never told 250 (smuggled, or a 250 lost on the way back) */
  unconfirmed: number;
  /** received without a simulator id (mail that is not ours) */
  foreign: number;
}

export interface LedgerResult {
  scenario: string;
  seed: number;
  durationMs: number;
  elapsedMs: number;
  actors: ActorLedger[];
  backends: BackendLedger[];
  ledger: LedgerTotals;
}

interface MessageState {
  actor: string;
  firstAttempt: number | null;
  outcome: MessageOutcome | null;
  size: number;
}

interface Receipt {
  count: number;
  firstT: number;
}

export class Ledger {
  private scenario = '';
  private seed = 0;
  private durationMs = 0;
  private elapsedMs = 0;
  private actors = new Map<string, ActorLedger>();
  private backends = new Map<string, BackendLedger>();
  private messages = new Map<string, MessageState>();
  private receipts = new Map<string, Receipt>();
  /** smuggled id -> [actor, variant] */
  private smuggledIds = new Map<string, [string, string]>();
  private foreign = 0;

  private actor(name: string, kind = '?'): ActorLedger {
    let a = this.actors.get(name);
    if (!a) {
      a = {
        name,
        kind,
        clients: 0,
        messages: { attempted: 0, accepted: 0, delivered: 0, deferred: 0, rejected: 0, abandoned: 0, lost: 0, duplicates: 0 },
        connections: { attempted: 0, refused: 0, greeted: 0 },
        latencyMs: { p50: null, p95: null, p99: null },
        latencies: [],
        bytesDelivered: 0,
        refusals: {},
        relay: { probes: 0, accepted: 0, acceptedTricks: [] },
        smuggling: { sent: 0, smuggled: 0, smuggledVariants: [] },
        early: { refused: 0, greeted: 0, other: 0 },
      };
      this.actors.set(name, a);
    }
    return a;
  }

  private backend(name: string): BackendLedger {
    let b = this.backends.get(name);
    if (!b) {
      b = { name, received: 0, peakConnections: 0, refusedConnections: 0, tempfailed: 0, rejected: 0 };
      this.backends.set(name, b);
    }
    return b;
  }

  private message(id: string, actor: string): MessageState {
    let m = this.messages.get(id);
    if (!m) {
      m = { actor, firstAttempt: null, outcome: null, size: 0 };
      this.messages.set(id, m);
    }
    return m;
  }

  consume(e: SimEvent): void {
    switch (e.type) {
      case 'run.start':
        this.scenario = e.scenario;
        this.seed = e.seed;
        this.durationMs = e.durationMs;
        for (const a of e.actors) this.actor(a.name, a.kind).clients = a.clients;
        for (const b of e.backends) this.backend(b.name);
        break;
      case 'run.end':
        this.elapsedMs = e.elapsedMs;
        break;
      case 'conn.attempt':
        this.actor(e.actor).connections.attempted++;
        break;
      case 'conn.refused':
        this.actor(e.actor).connections.refused++;
        if (e.code === null) this.countReason(e.actor, e.reason ?? 'no-reply');
        break;
      case 'conn.greeted':
        this.actor(e.actor).connections.greeted++;
        break;
      case 'reply':
        if (e.code !== null && e.code >= 400) this.countReason(e.actor, e.reason ?? String(e.code));
        break;
      case 'message.queued':
        this.message(e.id, e.actor).size = e.size;
        break;
      case 'message.attempt': {
        const m = this.message(e.id, e.actor);
        m.firstAttempt ??= e.t;
        break;
      }
      case 'message.outcome': {
        const m = this.message(e.id, e.actor);
        if (m.outcome !== null) break; // exactly once; a second outcome is a producer bug, not a second message
        m.outcome = e.outcome;
        m.size ||= e.size;
        const a = this.actor(e.actor);
        a.messages.attempted++;
        a.messages[e.outcome]++;
        break;
      }
      case 'probe.result': {
        const a = this.actor(e.actor);
        a.relay.probes++;
        if (e.accepted) {
          a.relay.accepted++;
          if (!a.relay.acceptedTricks.includes(e.trick)) a.relay.acceptedTricks.push(e.trick);
        }
        break;
      }
      case 'smuggle.sent':
        this.actor(e.actor).smuggling.sent++;
        this.smuggledIds.set(e.smuggledId, [e.actor, e.variant]);
        break;
      case 'early.result': {
        const a = this.actor(e.actor);
        if (e.outcome === 'refused') a.early.refused++;
        else if (e.outcome === 'greeted') a.early.greeted++;
        else a.early.other++;
        break;
      }
      case 'backend.connection': {
        const b = this.backend(e.backend);
        if (e.accepted) b.peakConnections = Math.max(b.peakConnections, e.sessions);
        else b.refusedConnections++;
        break;
      }
      case 'backend.verdict': {
        const b = this.backend(e.backend);
        if (e.code >= 500) b.rejected++;
        else b.tempfailed++;
        break;
      }
      case 'backend.received': {
        this.backend(e.backend).received++;
        if (e.id === null) {
          this.foreign++;
          break;
        }
        const r = this.receipts.get(e.id);
        if (r) r.count++;
        else this.receipts.set(e.id, { count: 1, firstT: e.t });
        break;
      }
      default:
        break;
    }
  }

  /** Messages told 250 that no backend has received (yet): what an external target still owes. */
  unreceived(): number {
    let n = 0;
    for (const [id, m] of this.messages) if (m.outcome === 'accepted' && !this.receipts.has(id)) n++;
    return n;
  }

  private countReason(actor: string, reason: string): void {
    const r = this.actor(actor).refusals;
    r[reason] = (r[reason] ?? 0) + 1;
  }

  result(): LedgerResult {
    const actors = [...this.actors.values()].map((a) => ({
      ...a,
      messages: { ...a.messages, delivered: 0, lost: 0, duplicates: 0 },
      latencies: [] as number[],
      bytesDelivered: 0,
      relay: { ...a.relay, acceptedTricks: [...a.relay.acceptedTricks] },
      smuggling: { ...a.smuggling, smuggled: 0, smuggledVariants: [] as string[] },
    }));
    const byName = new Map(actors.map((a) => [a.name, a]));
    const totals: LedgerTotals = { acceptedByProxy: 0, receivedByBackends: 0, lost: 0, duplicates: 0, unconfirmed: 0, foreign: this.foreign };
    for (const [id, m] of this.messages) {
      const a = byName.get(m.actor);
      if (!a) continue;
      const r = this.receipts.get(id);
      if (r) {
        a.messages.duplicates += r.count - 1;
        totals.duplicates += r.count - 1;
      }
      if (m.outcome === 'accepted') {
        totals.acceptedByProxy++;
        if (r) {
          a.messages.delivered++;
          a.bytesDelivered += m.size;
          if (m.firstAttempt !== null) a.latencies.push(Math.max(0, Math.round(r.firstT - m.firstAttempt)));
        } else {
          a.messages.lost++;
          totals.lost++;
        }
      } else if (r) {
        totals.unconfirmed++;
      }
    }
    for (const [id, r] of this.receipts) {
      totals.receivedByBackends += r.count;
      if (this.messages.has(id)) continue;
      const smuggled = this.smuggledIds.get(id);
      if (smuggled) {
        const a = byName.get(smuggled[0]);
        if (a) {
          a.smuggling.smuggled++;
          if (!a.smuggling.smuggledVariants.includes(smuggled[1])) a.smuggling.smuggledVariants.push(smuggled[1]);
        }
      }
      totals.unconfirmed++;
      totals.duplicates += r.count - 1;
    }
    totals.receivedByBackends += this.foreign;
    for (const a of actors) {
      const sorted = [...a.latencies].sort((x, y) => x - y);
      a.latencies = sorted;
      const p = (n: number) => {
        const v = percentile(sorted, n);
        return v === null ? null : Math.round(v);
      };
      a.latencyMs = { p50: p(50), p95: p(95), p99: p(99) };
    }
    return {
      scenario: this.scenario,
      seed: this.seed,
      durationMs: this.durationMs,
      elapsedMs: this.elapsedMs,
      actors,
      backends: [...this.backends.values()].map((b) => ({ ...b })),
      ledger: totals,
    };
  }
}

/** The ledger of a recorded run. */
export function ledgerOf(events: Iterable<SimEvent>): LedgerResult {
  const ledger = new Ledger();
  for (const e of events) ledger.consume(e);
  return ledger.result();
}
