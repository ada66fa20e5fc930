// One client connection, from accept to close, and the owner of everything it holds:
// its admission slot, its socket (TCP, then TLS after STARTTLS), its reader, its
// bandwidth gate and its mail transaction (with the backend connection that one
// leases). There is one way out, closed(), whatever ends the connection (QUIT, the
// client hanging up, an error, a refusal, shutdown), and it gives all of it back.
//
// The dialogue itself (what each command does) is in dialogue.ts; this file holds
// the connection's state, its replies (with the error tarpit) and its lifecycle.
import type net from 'node:net';
import tls from 'node:tls';
import type { Balancer } from '../balancer/balancer.ts';
import type { ProxyConfig } from '../config/schema.ts';
import { formatDuration } from '../config/units.ts';
import type { Defenses, ErrorCount } from '../defenses.ts';
import type { Dns } from '../dns.ts';
import type { Pressure, Sheddable } from '../pressure.ts';
import type { HoldBudget } from '../stages/hold-back.ts';
import type { SenderAuth } from '../senders.ts';
import type { ProxyEmitter, Stage } from '../events.ts';
import type { ClientIdentity } from '../relay/identity.ts';
import type { RelayTransaction } from '../relay/transaction.ts';
import { formatReply, reply, type Reply } from '../replies.ts';
import { TickWriter } from '../tick-writer.ts';
import { dispatch } from './dialogue.ts';
import { refuse } from './refuse.ts';
import { SessionReader } from './reader.ts';
import type { Sessions } from './sessions.ts';

export interface SessionContext {
  config: () => ProxyConfig;
  balancer: () => Balancer;
  events: ProxyEmitter;
  defenses: Defenses;
  sessions: Sessions;
  dns: Dns;
  pressure: Pressure;
  senders: SenderAuth;
  /** messages.holdBackTotal, shared by every session of the process */
  holdBudget: HoldBudget;
  /** the certificate for STARTTLS now (null: no TLS) */
  secureContext: () => tls.SecureContext | null;
}

/** A reply to write: the table's, a backend's passed on, or the dialogue's own. */
export type Wire = Pick<Reply, 'code' | 'enhanced' | 'text'>;

export type Phase = 'admission' | 'greeting' | 'dialogue' | 'closed';

/** Longest command line (RFC 5321 4.5.3.1.4), CRLF included. */
const MAX_COMMAND = 512;
/** How long a closing connection may take to read its last reply before it is destroyed. */
const LINGER_MS = 2000;
/** A TLS handshake that takes longer than this is given up. */
const HANDSHAKE_MS = 10_000;

let sequence = 0;
const instance = Math.floor(Math.random() * 36 ** 4).toString(36).padStart(4, '0');

export class Session implements Sheddable {
  readonly id = `${instance}${(++sequence).toString(36)}`;
  readonly identity: ClientIdentity;
  readonly connectedAt = Date.now();
  phase: Phase = 'admission';
  /** the socket replies go to: the TCP one, or the TLS one on top of it */
  socket: net.Socket;
  private out: TickWriter;
  secure = false;
  /** the user it authenticated as */
  user: string | null = null;
  /** HELO/EHLO given ('' before); `esmtp` for EHLO */
  helo = '';
  esmtp = false;
  tx: RelayTransaction | null = null;
  txStarted = 0;
  /** transactions begun so far (part of each message's id) */
  transactions = 0;
  readonly errors: ErrorCount = { errors: 0, closed: false, excused: 0 };
  /** the command being answered (the tarpit tells a refusal's consequences from new errors) */
  verb: string | null = null;
  shuttingDown = false;
  /** DNS reputation's mark for this client's messages (action: tag), null when clean */
  reputationTag: string | null = null;
  /** the lookup of the client's verified name (connections.reverseLookup), done before the first MAIL */
  named: Promise<void> | null = null;
  readonly reader: SessionReader;
  private releaseSlot: (() => void) | null = null;
  private detachGate: (() => void) | null = null;
  private closing = false;

  constructor(
    readonly raw: net.Socket,
    readonly ctx: SessionContext,
    client?: { remoteAddress: string; remotePort: number },
  ) {
    this.socket = raw;
    this.out = new TickWriter(raw);
    this.identity = {
      ip: client?.remoteAddress ?? raw.remoteAddress ?? 'unknown',
      port: client?.remotePort ?? raw.remotePort ?? 0,
      // a getsockname only for a PROXY protocol header to a backend, not on every connection
      get localIp() {
        return raw.localAddress ?? '';
      },
      get localPort() {
        return raw.localPort ?? 0;
      },
      helo: '',
      login: null,
      name: null,
    };
    this.reader = new SessionReader({ maxLine: MAX_COMMAND, idleTimeout: () => ctx.pressure.idleTimeout(), commandDeadline: () => ctx.pressure.commandDeadline() });
    raw.on('error', (err: Error & { code?: string }) => ctx.events.emit('client-error', { message: err.message, code: err.code ?? null }));
    raw.once('close', () => this.closed());
    ctx.sessions.add(this);
  }

  get ip(): string {
    return this.identity.ip;
  }

  get holdsSlot(): boolean {
    return this.releaseSlot !== null;
  }

  get isClosed(): boolean {
    return this.phase === 'closed';
  }

  /** Admission took a slot for this connection: it is freed when the connection closes. */
  admitted(release: () => void): void {
    if (this.phase === 'closed') return release();
    this.releaseSlot = release;
  }

  /** Greets the client and runs the dialogue until the connection ends. */
  start(): void {
    if (this.phase === 'closed') return;
    this.phase = 'dialogue';
    this.ctx.events.emit('connection', { client: this.ip, accepted: true });
    const gated = this.ctx.defenses.inboundGate(this.ip);
    this.reader.gate = gated?.gate ?? null;
    this.detachGate = gated?.detach ?? null;
    this.reader.attach(this.raw);
    if (this.ctx.config().connections.reverseLookup) {
      this.named = this.ctx.dns.verifiedName(this.ip).then((name) => void (this.identity.name = name));
    }
    void this.run();
  }

  private async run(): Promise<void> {
    const config = this.ctx.config();
    this.write(`220 ${config.hostname} ESMTP attitude\r\n`);
    while (!this.closing) {
      if (this.shuttingDown && !this.tx) return this.goodbye(reply('shutting-down'));
      const line = await this.reader.nextLine();
      if ('end' in line) {
        if (line.end === 'interrupted') continue;
        if (line.end === 'idle') return this.goodbye(reply('idle-timeout'), 'session');
        if (line.end === 'too-long') return this.goodbye(reply('line-too-long'), 'session');
        if (line.end === 'deadline') return this.goodbye(reply('command-deadline', `limit ${formatDuration(this.ctx.pressure.commandDeadline())}`), 'session');
        // the client left (or the session is closing: its last reply gets its linger)
        if (!this.closing) this.destroy();
        return;
      }
      try {
        await dispatch(this, line);
      } catch (err) {
        // a bug, not the client's doing: it keeps its message and may retry
        this.ctx.events.emit('warning', { message: `session ${this.id} from ${this.ip}: ${(err as Error).stack ?? err}` });
        await this.endTransaction();
        await this.send(reply('internal-error'));
      }
    }
  }

  /**
   * Writes a reply, after the error tarpit's delay (Postfix smtpd_error_sleep_time):
   * past the soft limit every reply waits, past the hard limit the session ends with 421.
   * `delivered`: the reply accepts a message (the error count starts afresh).
   */
  async send(r: Wire | Reply, delivered = false): Promise<void> {
    if (this.closing) return;
    const verdict = this.ctx.defenses.tarpit(this.errors, r.code, delivered, 'reason' in r ? r.reason : null, this.verb);
    if (typeof verdict === 'object') {
      this.ctx.events.refused(this.ip, 'session', verdict);
      return this.goodbye(verdict);
    }
    if (verdict > 0) {
      await new Promise((resolve) => setTimeout(resolve, verdict));
      if (this.closing) return;
    }
    this.write(formatReply(r) + '\r\n');
  }

  /** Replies that are refusals by a defense: counted (reason label, event) and tarpitted. */
  async refuse(stage: Stage, r: Reply): Promise<void> {
    this.ctx.events.refused(this.ip, stage, r);
    await this.send(r);
  }

  /** Replies written in one tick leave in one segment (pipelined commands). */
  write(data: string, written?: () => void): void {
    if (this.socket.destroyed || !this.socket.writable) return;
    this.out.write(data, written);
  }

  /** The last word (a 421), then the connection ends. */
  goodbye(r: Wire, countAs?: Stage): void {
    if (this.closing) return;
    if (countAs && 'reason' in r) this.ctx.events.refused(this.ip, countAs, r as Reply);
    this.write(formatReply(r) + '\r\n');
    this.close();
  }

  /**
   * 221 to QUIT, then the connection closes as soon as the reply is handed to the
   * kernel (RFC 5321 4.1.1.10: "send an OK reply, and then close"), as Postfix's
   * smtpd does: the close sends the FIN. Waiting for the client's FIN instead, as
   * close() does for a 421, cost a shutdown, a read and, against clients that reset
   * (smtp-source), an error with its stack trace on every connection. A TLS session
   * says close_notify first, so that the client reads a clean end.
   */
  quit(r: Wire): void {
    if (this.closing) return;
    const socket = this.socket;
    // not in the write's callback itself: Node 20 makes an ERR_STREAM_DESTROYED (and its
    // stack) for a stream destroyed there, whether or not anyone waits for it
    const gone = () => process.nextTick(() => this.destroy());
    this.write(formatReply(r) + '\r\n', this.secure ? undefined : gone);
    this.close(this.secure);
    if (this.secure) socket.once('finish', gone);
  }

  /**
   * Ends the connection after what was written, reading and dropping what the client
   * still sends (a client that pipelined more commands after the one refused still
   * gets to read the 421); destroyed if the client does not go. `halfClose` false:
   * no FIN now, the caller destroys the socket itself.
   */
  close(halfClose = true): void {
    if (this.closing) return;
    this.closing = true;
    this.reader.close();
    void this.tx?.end();
    if (halfClose) this.socket.end();
    const linger = setTimeout(() => this.destroy(), LINGER_MS);
    linger.unref();
  }

  destroy(): void {
    this.closing = true;
    this.socket.destroy();
    this.raw.destroy();
  }

  /** The transaction ends (RSET, EHLO, STARTTLS): its backend connection comes back first. */
  async endTransaction(): Promise<void> {
    const tx = this.tx;
    if (!tx) return;
    this.tx = null;
    await tx.end();
  }

  idleFor(now: number): number {
    if (this.phase !== 'dialogue' || this.closing || !this.reader.waitingForClient) return 0;
    return now - this.reader.lastProgress;
  }

  /** Stress mode at the cap: this idle session makes room for a new client. */
  shed(): void {
    void this.tx?.end();
    this.goodbye(reply('shed-under-stress'), 'session');
  }

  /** SIGTERM: idle sessions get 421 now, the others once their transaction is answered. */
  shutdown(): void {
    this.shuttingDown = true;
    if (this.phase !== 'dialogue') return this.destroy();
    if (!this.tx) this.reader.interrupt();
  }

  /** The shutdown deadline passed: whatever it was doing, the client gets 421, then the connection ends. */
  forceClose(): void {
    if (this.phase !== 'dialogue') return this.destroy();
    void this.tx?.end();
    this.goodbye(reply('shutting-down'));
  }

  /**
   * STARTTLS (RFC 3207): what the client sent after the command is dropped, the
   * handshake runs on the same TCP connection, and the session starts over (no
   * HELO, no transaction, no user), reading from the TLS socket. The TCP socket stays
   * the one whose close ends the session.
   */
  async upgrade(context: tls.SecureContext): Promise<boolean> {
    this.reader.detach();
    await this.endTransaction();
    const secure = new tls.TLSSocket(this.raw, { isServer: true, secureContext: context });
    secure.on('error', (err: Error & { code?: string }) => this.ctx.events.emit('client-error', { message: `TLS: ${err.message}`, code: err.code ?? null }));
    secure.once('close', () => this.closed());
    this.socket = secure;
    this.out = new TickWriter(secure);
    const ok = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), HANDSHAKE_MS);
      secure.once('secure', () => {
        clearTimeout(timer);
        resolve(true);
      });
      secure.once('error', () => {
        clearTimeout(timer);
        resolve(false);
      });
      secure.once('close', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (!ok) {
      this.destroy();
      return false;
    }
    secure.setNoDelay(true);
    this.secure = true;
    this.helo = '';
    this.esmtp = false;
    this.user = null;
    this.identity.helo = '';
    this.identity.login = null;
    this.reader.attach(secure);
    return true;
  }

  /**
   * Refused before any dialogue (admission, early talk): the reply goes out and the
   * socket lingers for the client to read it, but the connection holds nothing
   * meanwhile: no slot, no place under the global cap.
   */
  reject(r: Reply): void {
    this.giveBack();
    refuse(this.raw, r);
  }

  /** The one way out: everything the connection held goes back, and the socket goes. */
  private closed(): void {
    if (this.phase === 'closed') return;
    const was = this.phase;
    this.giveBack();
    this.socket.destroy();
    if (was === 'dialogue') this.ctx.events.emit('closed', { client: this.ip, durationMs: Date.now() - this.connectedAt });
  }

  private giveBack(): void {
    this.phase = 'closed';
    this.closing = true;
    this.reader.close();
    const tx = this.tx;
    this.tx = null;
    void tx?.end();
    this.releaseSlot?.();
    this.releaseSlot = null;
    this.detachGate?.();
    this.detachGate = null;
    this.ctx.sessions.delete(this);
  }
}
