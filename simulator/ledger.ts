// Ground truth, not claims: joins what every actor was told (250, 4xx, 5xx,
// refused, nothing) with the ids the mock backends actually received. A pure
// consumer of the event stream, so a recorded events.jsonl yields the same ledger.
import { OUTCOME_COUNT, type MessageOutcome, type SimEvent } from './events.ts';
import { percentile } from './thresholds.ts';

/** An actor's messages by fate; `inFlight`: without a reply when the run ended (not the target's doing). */
export interface MessageCounts {
  attempted: number;
  accepted: number;
  delivered: number;
  deferred: number;
  rejected: number;
  abandoned: number;
  inFlight: number;
  lost: number;
  duplicates: number;
}

export interface ActorLedger {
  name: string;
  kind: string;
  clients: number;
  messages: MessageCounts;
  connections: { attempted: number; refused: number; greeted: number };
  latencyMs: { p50: number | null; p95: number | null; p99: number | null };
  /** every delivered message's latency, ms (first attempt to backend receipt) */
  latencies: number[];
  bytesDelivered: number;
  /** refusals by reason: the proxy's label, or the class of another target's reply (reply-class.ts) */
  refusals: Record<string, number>;
  /** connections that ended without any SMTP reply (refused, reset, closed before the banner, timed out), by cause */
  failures: Record<string, number>;
  relay: { probes: number; accepted: number; acceptedTricks: string[] };
  smuggling: { sent: number; smuggled: number; smuggledVariants: string[] };
  early: { refused: number; greeted: number; other: number };
}

export interface BackendLedger {
  name: string;
  /** where it listened (HOST:PORT): what a target under test relays to */
  address: string;
  received: number;
  /** the most sessions carrying mail at once (health checks and probes are counted apart) */
  peakConnections: number;
  /** sessions that never began a transaction: a target's health checks, probes, a preflight */
  foreignConnections: number;
  refusedConnections: number;
  tempfailed: number;
  rejected: number;
}

export interface LedgerTotals {
  acceptedByProxy: number;
  receivedByBackends: number;
  lost: number;
  /** extra copies the target caused (an unconfirmed redelivery is not one) */
  duplicates: number;
  /**
   * extra copies explained by a backend that stored a message and never answered its
   * 250 (the session broke, RFC 1047): the target rightly sent it again
   */
  unconfirmedRedeliveries: number;
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
  /** transactions that carried the message */
  count: number;
  firstT: number;
  /** per recipient: how often it got the message, and how many of those copies the backend never answered (RFC 1047) */
  recipients: Map<string, { count: number; unanswered: number }>;
}

/** Stands for every recipient of a receipt that did not name them (recordings from before they were). */
const ALL = '*';

/**
 * Extra copies of a message, per recipient: a target that splits a message by
 * recipient (Postfix, one transaction per next hop) sends no duplicate, one that
 * gives a recipient the message twice does. The copies a silent backend explains
 * (it stored them and never said 250: the target rightly sent them again) are
 * unconfirmed redeliveries, not duplicates.
 */
function extraCopies(r: Receipt): { duplicates: number; redeliveries: number } {
  let duplicates = 0;
  let redeliveries = 0;
  for (const got of r.recipients.values()) {
    const extra = got.count - 1;
    const silent = Math.min(extra, got.unanswered);
    duplicates = Math.max(duplicates, extra - silent);
    redeliveries = Math.max(redeliveries, silent);
  }
  return { duplicates, redeliveries };
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
        messages: { attempted: 0, accepted: 0, delivered: 0, deferred: 0, rejected: 0, abandoned: 0, inFlight: 0, lost: 0, duplicates: 0 },
        connections: { attempted: 0, refused: 0, greeted: 0 },
        latencyMs: { p50: null, p95: null, p99: null },
        latencies: [],
        bytesDelivered: 0,
        refusals: {},
        failures: {},
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
      b = { name, address: '', received: 0, peakConnections: 0, foreignConnections: 0, refusedConnections: 0, tempfailed: 0, rejected: 0 };
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
        for (const b of e.backends) this.backend(b.name).address = b.address;
        break;
      case 'run.end':
        this.elapsedMs = e.elapsedMs;
        break;
      case 'conn.attempt':
        this.actor(e.actor).connections.attempted++;
        break;
      case 'conn.refused':
        this.actor(e.actor).connections.refused++;
        if (e.code === null) this.count(this.actor(e.actor).failures, e.reason ?? 'no-reply');
        break;
      case 'conn.greeted':
        this.actor(e.actor).connections.greeted++;
        break;
      case 'reply':
        if (e.code !== null && e.code >= 400) this.count(this.actor(e.actor).refusals, e.reason ?? String(e.code));
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
        a.messages[OUTCOME_COUNT[e.outcome]]++;
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
        if (!e.accepted) b.refusedConnections++;
        break;
      }
      case 'backend.mail': {
        const b = this.backend(e.backend);
        b.peakConnections = Math.max(b.peakConnections, e.sessions);
        break;
      }
      case 'backend.closed':
        if (e.mail === false) this.backend(e.backend).foreignConnections++;
        break;
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
        const r = this.receipts.get(e.id) ?? { count: 0, firstT: e.t, recipients: new Map() };
        r.count++;
        for (const to of e.to?.length ? e.to : [ALL]) {
          const got = r.recipients.get(to.toLowerCase()) ?? { count: 0, unanswered: 0 };
          got.count++;
          if (e.unanswered) got.unanswered++;
          r.recipients.set(to.toLowerCase(), got);
        }
        this.receipts.set(e.id, r);
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

  private count(tally: Record<string, number>, reason: string): void {
    tally[reason] = (tally[reason] ?? 0) + 1;
  }

  result(): LedgerResult {
    const actors = [...this.actors.values()].map((a) => ({
      ...a,
      messages: { ...a.messages, delivered: 0, lost: 0, duplicates: 0 },
      latencies: [] as number[],
      bytesDelivered: 0,
      refusals: { ...a.refusals },
      failures: { ...a.failures },
      relay: { ...a.relay, acceptedTricks: [...a.relay.acceptedTricks] },
      smuggling: { ...a.smuggling, smuggled: 0, smuggledVariants: [] as string[] },
    }));
    const byName = new Map(actors.map((a) => [a.name, a]));
    const totals: LedgerTotals = { acceptedByProxy: 0, receivedByBackends: 0, lost: 0, duplicates: 0, unconfirmedRedeliveries: 0, unconfirmed: 0, foreign: this.foreign };
    for (const [id, m] of this.messages) {
      const a = byName.get(m.actor);
      if (!a) continue;
      const r = this.receipts.get(id);
      if (r) {
        const { duplicates, redeliveries } = extraCopies(r);
        a.messages.duplicates += duplicates;
        totals.duplicates += duplicates;
        totals.unconfirmedRedeliveries += redeliveries;
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
      const { duplicates, redeliveries } = extraCopies(r);
      totals.duplicates += duplicates;
      totals.unconfirmedRedeliveries += redeliveries;
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
