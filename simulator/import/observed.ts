// What a mail log says happened, whatever server wrote it: sessions (a client's
// connections, refused or not, with their transactions) and the messages that got
// into the queue, followed to their delivery by queue id. The Postfix and Haraka
// readers feed an ObservationBuilder line by line; classify.ts and build.ts read the
// Observation it finishes with.

/** Why the server refused something, as the log tells it. */
export type Refusal =
  | 'connection-limit'
  | 'connection-rate'
  | 'message-rate'
  | 'recipient-rate'
  | 'too-many-recipients'
  | 'relay-denied'
  | 'pregreet'
  | 'protocol'
  | 'bare-newline'
  | 'dnsbl'
  | 'denied'
  | 'recipient-unknown'
  | 'sender'
  | 'greylisted'
  | 'content'
  | 'worm'
  | 'timeout'
  | 'other';

export interface Transaction {
  t: number;
  /** refused at MAIL (a rate limit): no recipient was tried */
  mailRefusal: Refusal | null;
  /** the recipients refused at RCPT, with why */
  refusedRcpts: Array<{ to: string; from: string; refusal: Refusal }>;
  /** a queue id: at least one recipient was accepted */
  queueId: string | null;
}

export interface Session {
  client: string;
  start: number;
  end: number | null;
  /** who logged it: postscreen counts the connections in front of smtpd */
  via: 'smtpd' | 'postscreen' | 'haraka';
  /** refused as a connection, before any transaction */
  refused: Refusal | null;
  /** what it said before the banner */
  said: string | null;
  timedOut: boolean;
  transactions: Transaction[];
  /** from the server's summary at disconnect: MAIL and RCPT commands tried, and those that failed */
  mail: { tried: number; failed: number } | null;
  rcpt: { tried: number; failed: number } | null;
}

export interface QueuedMessage {
  queueId: string;
  client: string;
  t: number;
  /** received whole (Postfix's qmgr saw it, Haraka queued it) */
  received: boolean;
  size: number | null;
  recipients: number | null;
  messageId: string | null;
  /** refused after DATA (header/body checks, a milter, an attachment) */
  refusal: Refusal | null;
  sent: number;
  deferred: number;
  bounced: number;
  /** seconds from arrival to delivery, per delivered recipient */
  delays: number[];
  /** the recipients' domains, as deliveries name them */
  domains: string[];
}

export interface RelayStats {
  /** as the log names it: `mx.example.org[192.0.2.1]:25` */
  relay: string;
  host: string;
  sent: number;
  deferred: number;
  bounced: number;
  /** seconds of each delivery's transmission (Postfix's delays=a/b/c/d, the d) */
  transmit: number[];
}

/** What the log says about the limits it enforced (for the proxy config "as it was"). */
export interface LimitHints {
  /** smtpd_client_connection_count_limit: the counts anvil refused at, minus one */
  connectionLimit: number | null;
  connectionRate: number | null;
  messageRate: number | null;
  recipientRate: number | null;
  /** anvil_rate_time_unit, from anvil's statistics (`12/60s`) */
  rateUnitMs: number | null;
  dnsblZones: string[];
  /** per address, what anvil said of its peaks */
  peaks: Map<string, { connections: number; connectionRate: number; messageRate: number }>;
}

export interface Observation {
  format: 'postfix' | 'haraka';
  first: number;
  last: number;
  /** 1000 when the stamps have no fraction of a second */
  resolutionMs: number;
  /** the offset of the log's wall clock from UTC, when it said */
  offsetMs: number;
  sessions: Session[];
  messages: QueuedMessage[];
  relays: RelayStats[];
  hints: LimitHints;
  lines: number;
  /** lines with a timestamp this reader did not use */
  skipped: number;
}

interface Mark {
  t: number;
  kind: 'queued' | 'mail-refused' | 'rcpt-refused';
  queueId?: string;
  from?: string;
  to?: string;
  refusal?: Refusal;
}

interface OpenSession extends Session {
  marks: Mark[];
}

export class ObservationBuilder {
  private open = new Map<string, OpenSession>();
  private done: OpenSession[] = [];
  private messages = new Map<string, QueuedMessage>();
  private relays = new Map<string, RelayStats>();
  private first = Number.POSITIVE_INFINITY;
  private last = Number.NEGATIVE_INFINITY;
  private fraction = false;
  lines = 0;
  skipped = 0;
  offsetMs = 0;
  readonly hints: LimitHints = {
    connectionLimit: null,
    connectionRate: null,
    messageRate: null,
    recipientRate: null,
    rateUnitMs: null,
    dnsblZones: [],
    peaks: new Map(),
  };

  constructor(readonly format: Observation['format']) {}

  /** Every timestamped line goes through here, used or not. */
  seen(t: number, fraction: boolean): void {
    this.first = Math.min(this.first, t);
    this.last = Math.max(this.last, t);
    this.fraction ||= fraction;
  }

  /** A new connection under `key` (smtpd's pid, postscreen's ip:port, Haraka's uuid); an old one there ends. */
  connect(key: string, client: string, t: number, via: Session['via']): void {
    const old = this.open.get(key);
    if (old) this.close(key, t);
    this.open.set(key, { client, start: t, end: null, via, refused: null, said: null, timedOut: false, transactions: [], mail: null, rcpt: null, marks: [] });
  }

  session(key: string): Session | undefined {
    return this.open.get(key);
  }

  /** The session under `key`, or one made up for a line whose connect is not in the log. */
  private ensure(key: string, client: string, t: number, via: Session['via']): OpenSession {
    let s = this.open.get(key);
    if (!s || (client && s.client !== client)) {
      this.connect(key, client, t, via);
      s = this.open.get(key)!;
    }
    return s;
  }

  refuseConnection(key: string, client: string, t: number, refusal: Refusal, via: Session['via']): void {
    const s = this.ensure(key, client, t, via);
    // the first reason stands: a pregreet then a DNSBL listing is an early talker
    s.refused ??= refusal;
  }

  said(key: string, client: string, t: number, text: string, via: Session['via']): void {
    const s = this.ensure(key, client, t, via);
    s.said ??= text;
  }

  timedOut(key: string): void {
    const s = this.open.get(key);
    if (s) s.timedOut = true;
  }

  mark(key: string, client: string, via: Session['via'], m: Mark): void {
    this.ensure(key, client, m.t, via).marks.push(m);
  }

  close(key: string, t: number, summary: { mail?: Session['mail']; rcpt?: Session['rcpt'] } = {}): void {
    const s = this.open.get(key);
    if (!s) return;
    this.open.delete(key);
    s.end = t;
    s.mail = summary.mail ?? null;
    s.rcpt = summary.rcpt ?? null;
    this.done.push(s);
  }

  queued(queueId: string, client: string, t: number): QueuedMessage {
    let m = this.messages.get(queueId);
    if (!m) {
      m = { queueId, client, t, received: false, size: null, recipients: null, messageId: null, refusal: null, sent: 0, deferred: 0, bounced: 0, delays: [], domains: [] };
      this.messages.set(queueId, m);
    }
    return m;
  }

  message(queueId: string): QueuedMessage | undefined {
    return this.messages.get(queueId);
  }

  delivery(queueId: string, to: string, relay: string, host: string, status: 'sent' | 'deferred' | 'bounced', delay: number | null, transmit: number | null): void {
    const m = this.messages.get(queueId);
    const domain = to.split('@').pop()!.toLowerCase();
    if (m) {
      m[status]++;
      if (domain && !to.startsWith('@') && to.includes('@') && !m.domains.includes(domain)) m.domains.push(domain);
      if (status === 'sent' && delay !== null) m.delays.push(delay);
    }
    let r = this.relays.get(relay);
    if (!r) {
      r = { relay, host, sent: 0, deferred: 0, bounced: 0, transmit: [] };
      this.relays.set(relay, r);
    }
    r[status]++;
    if (transmit !== null && status === 'sent') r.transmit.push(transmit);
  }

  finish(): Observation {
    for (const key of [...this.open.keys()]) this.close(key, this.last);
    const sessions = this.done.map(({ marks, ...s }) => ({ ...s, transactions: transactionsOf(s, marks) }));
    sessions.sort((a, b) => a.start - b.start);
    return {
      format: this.format,
      first: Number.isFinite(this.first) ? this.first : 0,
      last: Number.isFinite(this.last) ? this.last : 0,
      resolutionMs: this.fraction ? 1 : 1000,
      offsetMs: this.offsetMs,
      sessions,
      messages: [...this.messages.values()],
      relays: [...this.relays.values()],
      hints: this.hints,
      lines: this.lines,
      skipped: this.skipped,
    };
  }
}

/**
 * A session's transactions from its marks: each queue id and each refused MAIL is one;
 * refused RCPTs in a row with the same sender are one. The server's own count at
 * disconnect (`mail=1/5`) wins when it says more: the missing ones are spread over the
 * session, and when the marks make more, the first ones stand.
 */
function transactionsOf(s: Session, marks: Mark[]): Transaction[] {
  const out: Transaction[] = [];
  let open: Transaction | null = null;
  let openFrom: string | null = null;
  for (const m of marks) {
    if (m.kind === 'rcpt-refused') {
      const rcpt = { to: m.to ?? '', from: m.from ?? '', refusal: m.refusal ?? 'other' };
      if (open && openFrom === rcpt.from) open.refusedRcpts.push(rcpt);
      else {
        open = { t: m.t, mailRefusal: null, refusedRcpts: [rcpt], queueId: null };
        openFrom = rcpt.from;
        out.push(open);
      }
      continue;
    }
    if (m.kind === 'queued') {
      // RCPTs refused before the first accepted one belong to this transaction
      if (open && open.queueId === null && open.mailRefusal === null) {
        open.queueId = m.queueId ?? null;
      } else {
        open = { t: m.t, mailRefusal: null, refusedRcpts: [], queueId: m.queueId ?? null };
        out.push(open);
      }
      openFrom = null;
      continue;
    }
    out.push({ t: m.t, mailRefusal: m.refusal ?? 'other', refusedRcpts: [], queueId: null });
    open = null;
    openFrom = null;
  }
  const told = s.mail?.tried;
  if (told === undefined || told === out.length) return out;
  if (told < out.length) return out.slice(0, told);
  const end = s.end ?? s.start;
  const missing = told - out.length;
  for (let i = 0; i < missing; i++) out.push({ t: s.start + ((end - s.start) * (i + 1)) / (missing + 1), mailRefusal: null, refusedRcpts: [], queueId: null });
  return out.sort((a, b) => a.t - b.t);
}
