// A mock mail server: a real SMTP server (smtp-server) on loopback with latency,
// capacity, temporary and permanent failure shares, outages, and a record of
// every message it received (the ground truth of the ledger).
import type net from 'node:net';
import { EventEmitter } from 'node:events';
import { QuickSmtpServer } from './smtp-server-adapter.ts';
import type { Rate } from '../proxy/config/units.ts';
import { findLenientEnd, parseSmuggled } from './lenient-data.ts';
import { ID_HEADER } from './message.ts';

export interface ReceivedMessage {
  id: string | null;
  from: string;
  to: string[];
  size: number;
  raw: Buffer;
  clientAddress: string;
  xclientAddr: string | null;
  /** every XCLIENT attribute the sending proxy passed (ADDR, NAME, HELO, LOGIN, ...) */
  xclient: Record<string, string>;
  at: number;
  /** taken from the body of another message by a lenient end-of-data (SMTP smuggling) */
  smuggled?: boolean;
  /** stored although the session broke before the 250 went out (RFC 1047): the sender may rightly send it again */
  unanswered?: boolean;
}

export interface MockBackendEvents {
  connection: [{ client: string; accepted: boolean; reason: string | null; sessions: number }];
  /** a session began its first transaction; `sessions`: the sessions that carry mail now */
  mail: [{ sessions: number }];
  /** `mail`: whether the session ever began a transaction (health checks and probes never do) */
  closed: [{ sessions: number; mail: boolean }];
  received: [ReceivedMessage];
  verdict: [{ id: string | null; code: number; text: string }];
}

export interface MockBackendOptions {
  name?: string;
  host?: string;
  port?: number;
  /** ms added before each reply to MAIL, RCPT and the final dot; a function gives ranges. */
  latency?: number | (() => number);
  /** concurrent sessions; beyond it the banner is 421 */
  capacity?: number;
  /** decides the final-dot reply: return null to accept */
  decide?: (msg: ReceivedMessage) => { code: number; text: string } | null;
  /** refuse a recipient: return a reply to refuse it */
  rcpt?: (address: string) => { code: number; text: string } | null;
  /** keep message bodies (tests); the simulator only needs ids */
  keepRaw?: boolean;
  /** called on each DATA chunk; return 'reset' to drop the connection mid-DATA */
  onChunk?: (received: number) => 'reset' | void;
  idHeader?: string;
  /** share of messages answered 451 / 554 on the final dot, drawn from `random` */
  tempfail?: number;
  reject?: number;
  /** a seeded source for the shares (never Math.random in a simulation) */
  random?: () => number;
  /** new connections per window; beyond it the banner is 421 */
  rate?: Rate;
  /** take bare-LF/CR end-of-data variants for the end, like an unpatched MTA (see lenient-data.ts) */
  lenientDataEnd?: boolean;
  /**
   * A session dropped after the final dot and before the reply (an outage): whether the
   * server had stored message `id` already (RFC 1047). Decided per message, so a seeded
   * answer does not depend on timing; without it nothing is kept.
   */
  keptOnDrop?: (id: string) => boolean;
}

/** What the backend knows about one session it counted. */
interface SessionState {
  mailed: boolean;
}

type ReplyErr = Error & { responseCode: number };
const fail = (code: number, text: string): ReplyErr => Object.assign(new Error(text), { responseCode: code });

export class MockBackend {
  readonly events = new EventEmitter<MockBackendEvents>();
  readonly name: string;
  readonly received: ReceivedMessage[] = [];
  /** every open session (the capacity counts them all) */
  sessions = 0;
  peakSessions = 0;
  /** open sessions that began a transaction: a target's health checks are not among them */
  mailSessions = 0;
  peakMailSessions = 0;
  connections = 0;
  private states = new Map<string, SessionState>();
  private engine: QuickSmtpServer | null = null;
  port = 0;
  host: string;
  /** stopped by `down()`: refuses connections until `up()` */
  isDown = false;
  private recentConnections: number[] = [];

  constructor(private readonly o: MockBackendOptions = {}) {
    this.name = o.name ?? 'mock';
    this.host = o.host ?? '127.0.0.1';
    this.port = o.port ?? 0;
    if ((o.tempfail || o.reject) && !o.random) throw new Error('MockBackend: tempfail/reject need a seeded `random`');
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  private delay(): Promise<void> {
    const l = typeof this.o.latency === 'function' ? this.o.latency() : (this.o.latency ?? 0);
    return l > 0 ? new Promise((r) => setTimeout(r, l)) : Promise.resolve();
  }

  async start(): Promise<this> {
    // compiled once, not per message (no g flag: it keeps no state between messages)
    const idLine = new RegExp(`^${this.o.idHeader ?? ID_HEADER}:\\s*(\\S+)`, 'im');
    const engine = new QuickSmtpServer({
      name: `${this.name}.mock.test`,
      logger: false,
      disableReverseLookup: true,
      hideSTARTTLS: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      authOptional: true,
      useXClient: true,
      hideENHANCEDSTATUSCODES: false,
      size: 0,
      onConnect: (session, cb) => {
        this.connections++;
        const client = session.remoteAddress;
        const refuse = (reason: string, text: string) => {
          this.events.emit('connection', { client, accepted: false, reason, sessions: this.sessions });
          cb(fail(421, text));
        };
        if (this.o.capacity && this.sessions >= this.o.capacity) return refuse('capacity', '4.3.2 too many sessions, try later');
        if (this.o.rate && !this.withinRate(this.o.rate)) return refuse('rate', '4.7.0 connection rate exceeded, try later');
        this.sessions++;
        this.peakSessions = Math.max(this.peakSessions, this.sessions);
        this.states.set(session.id, { mailed: false });
        this.events.emit('connection', { client, accepted: true, reason: null, sessions: this.sessions });
        cb();
      },
      onClose: (session) => {
        const state = this.states.get(session.id);
        if (!state) return;
        this.states.delete(session.id);
        this.sessions--;
        if (state.mailed) this.mailSessions--;
        this.events.emit('closed', { sessions: this.sessions, mail: state.mailed });
      },
      onMailFrom: (_a, session, cb) => {
        const state = this.states.get(session.id);
        if (state && !state.mailed) {
          state.mailed = true;
          this.mailSessions++;
          this.peakMailSessions = Math.max(this.peakMailSessions, this.mailSessions);
          this.events.emit('mail', { sessions: this.mailSessions });
        }
        void this.delay().then(() => cb());
      },
      onRcptTo: (address, _s, cb) => {
        void this.delay().then(() => {
          const refusal = this.o.rcpt?.(address.address);
          cb(refusal ? fail(refusal.code, refusal.text) : undefined);
        });
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        let size = 0;
        stream.on('data', (chunk: Buffer) => {
          size += chunk.length;
          chunks.push(chunk);
          if (this.o.onChunk?.(size) === 'reset') {
            (stream as unknown as { destroy(): void }).destroy();
            this.engine?.socketOf(session.id)?.destroy();
          }
        });
        stream.on('end', () => {
          let raw = Buffer.concat(chunks);
          let smuggled: Buffer | null = null;
          if (this.o.lenientDataEnd) {
            const end = findLenientEnd(raw);
            if (end) {
              smuggled = raw.subarray(end.after);
              raw = raw.subarray(0, end.at);
            }
          }
          const headerEnd = raw.indexOf('\r\n\r\n');
          const headers = raw.subarray(0, headerEnd < 0 ? raw.length : headerEnd).toString('latin1');
          const m = idLine.exec(headers);
          const msg: ReceivedMessage = {
            id: m ? m[1] : null,
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            size,
            raw: this.o.keepRaw === false ? Buffer.alloc(0) : raw,
            clientAddress: session.remoteAddress,
            xclientAddr: (session.xClient as Map<string, string> | undefined)?.get('ADDR') ?? null,
            xclient: Object.fromEntries([...((session.xClient as Map<string, string> | undefined) ?? new Map())].filter(([k]) => !k.includes(':'))),
            at: Date.now(),
          };
          void this.delay().then(() => {
            // the connection broke (an outage, a reset) while the server was still at work:
            // it never answered, and the sender, told nothing, will send it again; whether
            // the server had stored it already is the keptOnDrop decision (RFC 1047)
            const socket = this.engine?.socketOf(session.id);
            if (!socket || socket.destroyed) {
              if (msg.id && this.o.keptOnDrop?.(msg.id)) this.record({ ...msg, unanswered: true });
              return cb(fail(421, '4.4.2 connection lost'));
            }
            const verdict = this.o.decide?.(msg) ?? this.share();
            if (verdict) {
              this.events.emit('verdict', { id: msg.id, code: verdict.code, text: verdict.text });
              return cb(fail(verdict.code, verdict.text));
            }
            this.record(msg);
            // what an unpatched receiver would do next: run the smuggled commands as a second transaction
            const second = smuggled ? parseSmuggled(smuggled, idLine) : null;
            if (second) this.record({ ...msg, ...second, raw: this.o.keepRaw === false ? Buffer.alloc(0) : second.raw, smuggled: true });
            cb(null, `2.0.0 Ok: queued as ${this.name}-${this.received.length}`);
          });
        });
      },
    });
    engine.on('error', () => {});
    this.engine = engine;
    await new Promise<void>((resolve, reject) => {
      engine.server.once('error', reject);
      engine.listen(this.port, this.host, () => resolve());
    });
    this.port = (engine.server.address() as net.AddressInfo).port;
    return this;
  }

  private record(msg: ReceivedMessage): void {
    this.received.push(msg);
    this.events.emit('received', msg);
  }

  private share(): { code: number; text: string } | null {
    const { tempfail = 0, reject = 0, random } = this.o;
    if ((!tempfail && !reject) || !random) return null;
    const x = random();
    if (x < tempfail) return { code: 451, text: '4.3.0 temporary failure, try again later' };
    if (x < tempfail + reject) return { code: 554, text: '5.7.1 message rejected' };
    return null;
  }

  private withinRate(rate: Rate): boolean {
    const now = Date.now();
    while (this.recentConnections.length && this.recentConnections[0] <= now - rate.perMs) this.recentConnections.shift();
    if (this.recentConnections.length >= rate.count) return false;
    this.recentConnections.push(now);
    return true;
  }

  /** An outage: stop listening and drop every session (clients get connection refused). */
  async down(): Promise<void> {
    if (this.isDown) return;
    this.isDown = true;
    await this.stop();
  }

  /** Back from an outage, on the same address. */
  async up(): Promise<void> {
    if (!this.isDown) return;
    this.isDown = false;
    await this.start();
  }

  /** Stops listening and drops every session: an outage. `start()` again comes back on the same port. */
  async stop(): Promise<void> {
    const engine = this.engine;
    if (!engine) return;
    this.engine = null;
    engine.dropAll();
    await new Promise<void>((resolve) => engine.server.close(() => resolve()));
  }
}
