// What the reports know about a run while it goes (or while it replays): counts
// per actor and per backend, the proxy's connections and limits, the per-second
// series, the notable events and the defenses that fired. One consumer of the
// event stream that the TUI, the progress lines and the report files all read.
import { OUTCOME_COUNT, type SimEvent, type SimEventMap } from '../../simulator/events.ts';
import type { MessageCounts } from '../../simulator/ledger.ts';
import { DefenseCounter } from './defenses.ts';
import { EventLog } from './event-log.ts';
import { Timeline } from './timeline.ts';

export type RunInfo = SimEventMap['run.start'];
export type Phase = 'setup' | 'warmup' | 'running' | 'draining' | 'stopping' | 'ended';

/**
 * An actor while the run goes: its messages by fate as the ledger counts them
 * (`attempted`: with a final outcome; `delivered`: a backend received the first
 * copy), lost and duplicates being the ledger's to say at the end.
 */
export interface ActorLive extends Omit<MessageCounts, 'lost' | 'duplicates'> {
  name: string;
  kind: string;
  clients: number;
  planned: number;
  connAttempted: number;
  connRefused: number;
  connGreeted: number;
}

export interface BackendLive {
  name: string;
  /** the mock's session capacity, 0 when unlimited */
  capacity: number;
  /** the proxy's connection cap towards it, when the proxy says */
  proxyMax: number | null;
  sessions: number;
  peak: number;
  received: number;
  health: 'up' | 'down' | 'unknown';
}

interface ProxySample {
  active: number;
  max: number;
  perClientBps: number | null;
  globalBps: number | null;
  stress: boolean;
}

/** The kinds whose mail a defense must let through. */
export const LEGIT_KINDS = new Set(['legit']);

export class RunModel {
  info: RunInfo | null = null;
  phase: Phase = 'setup';
  /** ms since the run started: the time of the latest event */
  now = 0;
  interrupted = false;
  readonly actors = new Map<string, ActorLive>();
  readonly backends = new Map<string, BackendLive>();
  readonly timeline = new Timeline();
  readonly log = new EventLog();
  readonly defenses = new DefenseCounter();
  readonly marks: Array<{ t: number; title: string; predict: string | null }> = [];
  /** bumped on every event, so a renderer knows when to redraw */
  version = 0;
  events = 0;
  private proxies = new Map<number, ProxySample>();
  private messages = new Map<string, { actor: string; size: number; firstAttempt: number | null; delivered: boolean }>();
  private open = new Set<number>();
  private perClient = new OpenPerClient();
  /** an external target's preflight banner (null: in-process, or not known) */
  targetBanner: string | null = null;
  /** backends' outages, from the time they went down to the time they came back (null: still down) */
  readonly outages: Array<{ backend: string; from: number; to: number | null }> = [];

  actor(name: string): ActorLive {
    let a = this.actors.get(name);
    if (!a) {
      a = { name, kind: '?', clients: 0, planned: 0, attempted: 0, accepted: 0, delivered: 0, deferred: 0, rejected: 0, abandoned: 0, inFlight: 0, connAttempted: 0, connRefused: 0, connGreeted: 0 };
      this.actors.set(name, a);
    }
    return a;
  }

  backend(name: string): BackendLive {
    let b = this.backends.get(name);
    if (!b) {
      b = { name, capacity: 0, proxyMax: null, sessions: 0, peak: 0, received: 0, health: 'unknown' };
      this.backends.set(name, b);
    }
    return b;
  }

  /** Whether a proxy instance is in stress mode now (from its /state samples). */
  proxyStress(): boolean {
    for (const p of this.proxies.values()) if (p.stress) return true;
    return false;
  }

  /** The proxy's connections against its cap, summed over its instances (null: no state samples). */
  proxyConnections(): { active: number; max: number } | null {
    if (!this.proxies.size) return null;
    let active = 0;
    let max = 0;
    for (const p of this.proxies.values()) {
      active += p.active;
      max += p.max;
    }
    return { active, max };
  }

  /** The bandwidth limits the proxy reported (bytes per second; null: off or unknown). */
  throttleLimits(): { perClient: number | null; global: number | null } {
    const first = this.proxies.values().next().value as ProxySample | undefined;
    if (!first) return { perClient: null, global: null };
    let global: number | null = 0;
    for (const p of this.proxies.values()) global = p.globalBps === null || global === null ? null : global + p.globalBps;
    return { perClient: first.perClientBps, global };
  }

  consume(e: SimEvent): void {
    this.version++;
    this.events++;
    if (e.type !== 'run.start') this.now = Math.max(this.now, e.t);
    const tl = this.timeline;
    tl.reach(this.now);
    this.log.consume(e);
    this.defenses.consume(e);
    switch (e.type) {
      case 'run.start': {
        const { type: _type, t: _t, ...info } = e;
        this.info = info;
        for (const a of e.actors) Object.assign(this.actor(a.name), { kind: a.kind, clients: a.clients, planned: a.planned });
        for (const b of e.backends) this.backend(b.name).capacity = b.capacity;
        break;
      }
      case 'run.phase':
        this.phase = e.phase;
        break;
      case 'run.end':
        this.phase = 'ended';
        this.interrupted = e.interrupted;
        break;
      case 'mark':
        this.marks.push({ t: e.t, title: e.title, predict: e.predict });
        break;
      case 'conn.attempt':
        this.actor(e.actor).connAttempted++;
        break;
      case 'conn.refused':
        this.actor(e.actor).connRefused++;
        if (e.code === null) tl.refusedFor(e.reason ?? 'no-reply').add(tl.reach(e.t));
        break;
      case 'conn.greeted':
        this.actor(e.actor).connGreeted++;
        this.open.add(e.conn);
        tl.clientConnections.set(tl.reach(e.t), this.open.size);
        tl.clientPeak.set(tl.reach(e.t), this.perClient.open(e.client));
        break;
      case 'conn.closed':
        if (!this.open.delete(e.conn)) break;
        tl.clientConnections.set(tl.reach(e.t), this.open.size);
        tl.clientPeak.set(tl.reach(e.t), this.perClient.close(e.client));
        break;
      case 'target.ready':
        this.targetBanner = e.banner;
        break;
      case 'reply':
        if (e.code !== null && e.code >= 400) tl.refusedFor(e.reason ?? String(e.code)).add(tl.reach(e.t));
        break;
      case 'message.queued':
        this.messages.set(e.id, { actor: e.actor, size: e.size, firstAttempt: null, delivered: false });
        break;
      case 'message.attempt': {
        const m = this.messages.get(e.id);
        if (m) m.firstAttempt ??= e.t;
        break;
      }
      case 'message.try':
        if (e.outcome === 'accepted') tl.accepted.add(tl.reach(e.t), this.messages.get(e.id)?.size ?? 0);
        break;
      case 'message.outcome': {
        const a = this.actor(e.actor);
        a.attempted++;
        a[OUTCOME_COUNT[e.outcome]]++;
        break;
      }
      case 'backend.connection': {
        const b = this.backend(e.backend);
        if (e.accepted) {
          b.sessions = e.sessions;
          b.peak = Math.max(b.peak, e.sessions);
        }
        break;
      }
      case 'backend.closed':
        this.backend(e.backend).sessions = e.sessions;
        break;
      case 'backend.received': {
        this.backend(e.backend).received++;
        tl.receivedBy(e.backend).add(tl.reach(e.t));
        const m = e.id === null ? undefined : this.messages.get(e.id);
        if (m && !m.delivered) {
          m.delivered = true;
          const a = this.actor(m.actor);
          a.delivered++;
          if (LEGIT_KINDS.has(a.kind) && m.firstAttempt !== null) tl.latencySample(e.t, Math.max(0, Math.round(e.t - m.firstAttempt)));
        }
        break;
      }
      case 'backend.outage': {
        this.backend(e.backend).health = e.state;
        const open = this.outages.find((o) => o.backend === e.backend && o.to === null);
        if (e.state === 'down' && !open) this.outages.push({ backend: e.backend, from: e.t, to: null });
        if (e.state === 'up' && open) open.to = e.t;
        break;
      }
      case 'proxy.state':
        this.proxyState(e.instance, e.t, e.state);
        break;
      case 'throttle':
        tl.throttleSample(e.t, e.bytes, e.clients);
        break;
      default:
        break;
    }
  }

  private proxyState(instance: number, t: number, raw: unknown): void {
    const state = (raw ?? {}) as {
      connections?: { active?: number; max?: number };
      stress?: { active?: boolean };
      backends?: Array<{ name: string; health?: string; maxConnections?: number }>;
      defenses?: { throttle?: { perClient?: number | null; global?: number | null } };
    };
    const sample: ProxySample = {
      active: state.connections?.active ?? 0,
      max: state.connections?.max ?? 0,
      perClientBps: state.defenses?.throttle?.perClient ?? null,
      globalBps: state.defenses?.throttle?.global ?? null,
      stress: !!state.stress?.active,
    };
    this.proxies.set(instance, sample);
    const total = this.proxyConnections()!;
    const s = this.timeline.reach(t);
    this.timeline.proxyConnections.set(s, total.active);
    this.timeline.proxyMax.set(s, total.max);
    for (const b of state.backends ?? []) {
      if (!this.backends.has(b.name)) continue;
      const live = this.backend(b.name);
      if (b.health === 'up' || b.health === 'down') live.health = b.health;
      if (typeof b.maxConnections === 'number') live.proxyMax = b.maxConnections;
    }
  }
}

/** Open connections per client address, and the most any one client holds, kept up in O(1) per change. */
class OpenPerClient {
  private byClient = new Map<string, number>();
  /** how many clients hold exactly n connections, for n >= 1 */
  private holding: number[] = [];
  private max = 0;

  open(client: string): number {
    const n = (this.byClient.get(client) ?? 0) + 1;
    this.byClient.set(client, n);
    if (n > 1) this.holding[n - 1]--;
    this.holding[n] = (this.holding[n] ?? 0) + 1;
    this.max = Math.max(this.max, n);
    return this.max;
  }

  close(client: string): number {
    const n = this.byClient.get(client) ?? 0;
    if (n <= 0) return this.max;
    this.holding[n]--;
    if (n > 1) this.holding[n - 1] = (this.holding[n - 1] ?? 0) + 1;
    if (n === 1) this.byClient.delete(client);
    else this.byClient.set(client, n - 1);
    while (this.max > 0 && !this.holding[this.max]) this.max--;
    return this.max;
  }
}

/** A model fed with a whole recorded stream. */
export function modelOf(events: Iterable<SimEvent>): RunModel {
  const m = new RunModel();
  for (const e of events) m.consume(e);
  return m;
}
