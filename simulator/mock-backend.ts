// A mock mail server: a real SMTP server (smtp-server) on loopback with latency,
// capacity, temporary and permanent failure shares, outages, and a record of
// every message it received (the ground truth of the ledger).
import type net from 'node:net';
import { SmtpEngine } from '../proxy/smtp/engine.ts';

export interface ReceivedMessage {
  id: string | null;
  from: string;
  to: string[];
  size: number;
  raw: Buffer;
  clientAddress: string;
  xclientAddr: string | null;
  at: number;
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
}

type ReplyErr = Error & { responseCode: number };
const fail = (code: number, text: string): ReplyErr => Object.assign(new Error(text), { responseCode: code });

export class MockBackend {
  readonly name: string;
  readonly received: ReceivedMessage[] = [];
  sessions = 0;
  peakSessions = 0;
  connections = 0;
  private engine: SmtpEngine | null = null;
  port = 0;
  host: string;

  constructor(private readonly o: MockBackendOptions = {}) {
    this.name = o.name ?? 'mock';
    this.host = o.host ?? '127.0.0.1';
    this.port = o.port ?? 0;
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  private delay(): Promise<void> {
    const l = typeof this.o.latency === 'function' ? this.o.latency() : (this.o.latency ?? 0);
    return l > 0 ? new Promise((r) => setTimeout(r, l)) : Promise.resolve();
  }

  async start(): Promise<this> {
    const idHeader = (this.o.idHeader ?? 'X-Attitude-Id').toLowerCase();
    const engine = new SmtpEngine({
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
        if (this.o.capacity && this.sessions >= this.o.capacity) return cb(fail(421, '4.3.2 too many sessions, try later'));
        this.sessions++;
        this.peakSessions = Math.max(this.peakSessions, this.sessions);
        (session as unknown as { counted: boolean }).counted = true;
        cb();
      },
      onClose: (session) => {
        if ((session as unknown as { counted: boolean }).counted) this.sessions--;
      },
      onMailFrom: (_a, _s, cb) => void this.delay().then(() => cb()),
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
            const socket = (this.engine as unknown as { connections: Set<{ id: string; _socket: net.Socket }> }).connections;
            for (const c of socket) if (c.id === session.id) c._socket.destroy();
          }
        });
        stream.on('end', () => {
          const raw = Buffer.concat(chunks);
          const headerEnd = raw.indexOf('\r\n\r\n');
          const headers = raw.subarray(0, headerEnd < 0 ? raw.length : headerEnd).toString('latin1');
          const m = new RegExp(`^${idHeader}:\\s*(\\S+)`, 'im').exec(headers);
          const msg: ReceivedMessage = {
            id: m ? m[1] : null,
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            size,
            raw: this.o.keepRaw === false ? Buffer.alloc(0) : raw,
            clientAddress: session.remoteAddress,
            xclientAddr: (session.xClient as Map<string, string> | undefined)?.get('ADDR') ?? null,
            at: Date.now(),
          };
          void this.delay().then(() => {
            const verdict = this.o.decide?.(msg);
            if (verdict) return cb(fail(verdict.code, verdict.text));
            this.received.push(msg);
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

  /** Stops listening and drops every session: an outage. `start()` again comes back on the same port. */
  async stop(): Promise<void> {
    const engine = this.engine;
    if (!engine) return;
    this.engine = null;
    const conns = (engine as unknown as { connections: Set<{ _socket: net.Socket }> }).connections;
    for (const c of conns) c._socket.destroy();
    await new Promise<void>((resolve) => engine.server.close(() => resolve()));
  }
}
