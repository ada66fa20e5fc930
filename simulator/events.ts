// The one event stream of a run (STYLE.md habit 7). Actors, mock backends and the
// proxy bridge emit; the recorder (events.jsonl), the ledger, the end summary and
// the TUI subscribe. Every event carries `t`, ms since the run started, and is
// plain JSON, so a recorded stream replays through the same consumers.

/** The SMTP step a reply answered. */
export type SmtpStage = 'connect' | 'banner' | 'ehlo' | 'mail' | 'rcpt' | 'data' | 'dot' | 'rset' | 'quit' | 'other';

/**
 * A message's final fate as its sender saw it. `in-flight`: still waiting for a reply
 * (or to be sent) when the run ended: the run's end cut it short, not the target,
 * so it is kept apart from `abandoned` (no reply: connection failed, reset, timeout).
 */
export type MessageOutcome = 'accepted' | 'deferred' | 'rejected' | 'abandoned' | 'in-flight';

/** Where each outcome is counted in a ledger's and a summary's `messages`. */
export const OUTCOME_COUNT = { accepted: 'accepted', deferred: 'deferred', rejected: 'rejected', abandoned: 'abandoned', 'in-flight': 'inFlight' } as const satisfies Record<MessageOutcome, string>;

/** The outcome of a message that got no reply: in flight when the run was over, else abandoned. */
export function withoutReply(runOver: boolean): 'abandoned' | 'in-flight' {
  return runOver ? 'in-flight' : 'abandoned';
}

export interface ReplyInfo {
  code: number | null;
  enhanced: string | null;
  /** the limit or cause named in the reply (the proxy's reason label when it is ours) */
  reason: string | null;
  text: string;
}

export interface SimEventMap {
  'run.start': {
    scenario: string;
    description: string;
    lesson: string;
    seed: number;
    durationMs: number;
    drainMs: number;
    /** the backends were up this long before the traffic (absent: none) */
    warmupMs?: number;
    target: string;
    /** the target is another process: the backends' addresses are what it must relay to */
    external?: boolean;
    /** the in-process proxy's limits the charts draw (an external target's are unknown) */
    proxyLimits?: { perClient: number };
    proxyConfig: string | null;
    actors: Array<{ name: string; kind: string; clients: number; planned: number }>;
    backends: Array<{ name: string; address: string; capacity: number }>;
    /** the run's mock DNS (records, DNSBL listings), for a target proxy to ask */
    dns?: string;
    thresholds: string[];
  };
  /** an external target answered the preflight: its banner says what it is */
  'target.ready': { banner: string; ms: number };
  'run.phase': { phase: 'warmup' | 'running' | 'draining' | 'stopping' };
  'run.end': { elapsedMs: number; interrupted: boolean };
  mark: { title: string; predict: string | null };

  'conn.attempt': { actor: string; client: string; conn: number };
  'conn.refused': { actor: string; client: string; conn: number } & ReplyInfo;
  'conn.greeted': { actor: string; client: string; conn: number; ms: number };
  'conn.closed': { actor: string; client: string; conn: number; heldMs: number; by: 'client' | 'server' };
  reply: { actor: string; client: string; conn: number; stage: SmtpStage; id: string | null } & ReplyInfo;

  'message.queued': { actor: string; id: string; client: string; size: number; recipients: number };
  'message.attempt': { actor: string; id: string; client: string; attempt: number };
  /** the answer to one attempt; `retryInMs` when the sender will try again */
  'message.try': { actor: string; id: string; attempt: number; outcome: MessageOutcome; stage: SmtpStage; retryInMs: number | null } & ReplyInfo;
  /** exactly once per message: its final fate as the sender saw it */
  'message.outcome': { actor: string; id: string; outcome: MessageOutcome; attempts: number; size: number } & ReplyInfo;

  'probe.result': { actor: string; client: string; trick: string; mailFrom: string; rcptTo: string; accepted: boolean } & ReplyInfo;
  'smuggle.sent': { actor: string; client: string; variant: string; id: string; smuggledId: string } & ReplyInfo;
  'early.result': { actor: string; client: string; outcome: 'refused' | 'greeted' | 'closed' | 'timeout'; code: number | null };

  'backend.connection': { backend: string; client: string; accepted: boolean; reason: string | null; sessions: number };
  /** a session began its first transaction: `sessions` carry mail now (a target's health checks never do) */
  'backend.mail': { backend: string; sessions: number };
  /** `mail`: whether the session ever carried a transaction (absent in recordings made before it was counted) */
  'backend.closed': { backend: string; sessions: number; mail?: boolean };
  /** `unanswered`: stored although the session broke before the backend's 250 (RFC 1047); `to`: the (simulated) recipients it carried */
  'backend.received': { backend: string; id: string | null; size: number; recipients: number; client: string; smuggled: boolean; unanswered?: boolean; to?: string[] };
  'backend.verdict': { backend: string; id: string | null; code: number; text: string };
  'backend.outage': { backend: string; state: 'down' | 'up' };

  'proxy.state': { instance: number; state: unknown };
  'proxy.event': { instance: number; name: string; data: unknown };
  throttle: { instance: number; windowMs: number; clients: number; bytes: number; waitMs: number };
}

export type SimEventType = keyof SimEventMap;
export type SimEvent = { [K in SimEventType]: { type: K; t: number } & SimEventMap[K] }[SimEventType];
export type SimEventOf<K extends SimEventType> = Extract<SimEvent, { type: K }>;

export type Listener = (event: SimEvent) => void;

export class EventBus {
  private listeners: Listener[] = [];
  private typed = new Map<SimEventType, Array<(e: SimEvent) => void>>();

  /** `now` gives ms since the run started. */
  constructor(private readonly now: () => number) {}

  emit<K extends SimEventType>(type: K, data: SimEventMap[K]): void {
    const event = { type, t: Math.round(this.now() * 10) / 10, ...data } as unknown as SimEvent;
    this.dispatch(event);
  }

  /** Feeds an already-timed event (replay from events.jsonl). */
  dispatch(event: SimEvent): void {
    for (const l of this.listeners) l(event);
    const typed = this.typed.get(event.type);
    if (typed) for (const l of typed) l(event);
  }

  /** Every event; returns the unsubscribe function. */
  subscribe(listener: Listener): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  on<K extends SimEventType>(type: K, listener: (event: SimEventOf<K>) => void): () => void {
    const list = this.typed.get(type) ?? [];
    list.push(listener as (e: SimEvent) => void);
    this.typed.set(type, list);
    return () => this.typed.set(type, (this.typed.get(type) ?? []).filter((l) => l !== listener));
  }
}
