// One mail transaction relayed to a backend, owned by its client session. The
// backend is chosen at MAIL, each RCPT is put to it before the client gets an
// answer, DATA is opened there before the client's 354 (a backend that offers
// CHUNKING gets the message in BDAT chunks instead, with nothing to ask first), the
// message streams through, and the client's 250 is the backend's 250 to the final
// dot (to the LAST chunk).
//
// Failures are judged by kind (proxy/errors.ts), never by text:
// - a backend reply to MAIL, RCPT, DATA or the dot (4xx or 5xx) is the transaction's
//   answer: it goes to the client as it is, the transaction and the backend stay;
// - a backend that is unhealthy (refused, timed out, dropped, 421, garbage) counts
//   toward its health; until DATA began, the transaction moves to the next backend
//   (MAIL and the accepted recipients replayed) and the client never notices;
// - a client that went away frees everything quietly.
// The backend connection is a lease from the backend's pool; every way out of the
// transaction gives it back, through end() or the step that ends it.
//
// MAIL goes to the backend together with the first RCPT (pipelined where the backend
// offers PIPELINING): one round trip less per message, and a sender the backend
// refuses is refused at RCPT, as Postfix does with smtpd_delay_reject.
import type { Stage } from '../stages/stage.ts';
import type { StageFailure } from '../stages/stage-error.ts';
import type { Backend } from '../balancer/backend.ts';
import type { Balancer } from '../balancer/balancer.ts';
import { SmtpClientError } from '../errors.ts';
import { passOn, reply, type Reply } from '../replies.ts';
import type { ClientIdentity } from './identity.ts';
import type { Cancellation, Lease } from './pool.ts';
import { pump, type MessageSource } from './pump.ts';
import type { SmtpReply } from './smtp-client.ts';
import type { SpfVerdict } from '../senders.ts';

export interface TransactionOptions {
  balancer: Balancer;
  /** the sender's SPF verdict at MAIL (null: not checked), for the message's authentication */
  spf?: SpfVerdict | null;
  who: ClientIdentity;
  /** the envelope sender as judged (normalized), '' for the null sender */
  sender: string;
  /** MAIL FROM parameters to pass on (SIZE=, BODY=, SMTPUTF8). */
  mailParams: string[];
  dataTimeout: number;
  /** BDAT instead of DATA where the backend offers CHUNKING (backends.chunking) */
  chunking?: boolean;
  onFailover?: (from: Backend, why: string) => void;
}

/** What a step ended with: the backend's reply, or a reply the proxy made up. */
export type StepResult = { ok: true; reply: SmtpReply } | { ok: false; reply: Reply };

const MAIL_OK: SmtpReply = { code: 250, text: '2.1.0 Ok', lines: ['2.1.0 Ok'] };
const DATA_OK: SmtpReply = { code: 354, text: 'go ahead', lines: ['go ahead'] };

const refused = (r: SmtpReply): StepResult => ({ ok: false, reply: passOn(r.code, r.text) });

export class RelayTransaction implements Cancellation {
  private lease: Lease | null = null;
  /** the backend the transaction is (or was last) on */
  backend: Backend | null = null;
  private mailSent = false;
  readonly recipients: string[] = [];
  private readonly tried = new Set<Backend>();
  /** a command or the message is on the wire: ending now must drop the connection */
  private busy = false;
  private ended = false;
  /** the answer to every later step once a failover could not keep the transaction whole */
  private broken: Reply | null = null;
  /** told when the transaction ends, so a wait for a backend connection stops */
  private onEnd: Array<() => void> = [];

  constructor(private readonly o: TransactionOptions) {}

  /** Cancellation: the pool stops a wait for a connection of a transaction that ended. */
  get cancelled(): boolean {
    return this.ended;
  }

  onCancel(listener: () => void): () => void {
    this.onEnd.push(listener);
    return () => void (this.onEnd = this.onEnd.filter((l) => l !== listener));
  }

  get backendName(): string | null {
    return this.backend?.name ?? null;
  }

  /** the envelope sender, as judged and forwarded */
  get sender(): string {
    return this.o.sender;
  }

  get spf(): SpfVerdict | null {
    return this.o.spf ?? null;
  }

  /** opened with SMTPUTF8: its addresses may be non-ASCII */
  get smtputf8(): boolean {
    return this.o.mailParams.includes('SMTPUTF8');
  }

  private get mailLine(): string {
    return `MAIL FROM:<${this.o.sender}>${this.o.mailParams.length ? ' ' + this.o.mailParams.join(' ') : ''}`;
  }

  /** Chooses a backend and leases a connection to it: failover here covers backends that are down. */
  async begin(): Promise<StepResult> {
    if (await this.attachNext()) return { ok: true, reply: MAIL_OK };
    return { ok: false, reply: this.ended ? gone() : reply('no-backend') };
  }

  async addRecipient(rcpt: string): Promise<StepResult> {
    const step = await this.exchange([`RCPT TO:<${rcpt}>`]);
    if (step.ok) this.recipients.push(rcpt);
    return step;
  }

  /** The message goes to the backend in BDAT chunks (set by openData). */
  get chunked(): boolean {
    return this.bdat;
  }

  private bdat = false;

  /**
   * Opens DATA at the backend; the client gets its 354 only after the backend's. A
   * backend that offers CHUNKING has nothing to say before the message: the client gets
   * its 354 at once and the message goes in BDAT chunks (RFC 3030).
   */
  async openData(): Promise<StepResult> {
    const lease = this.lease;
    if (this.o.chunking && lease && this.mailSent && !this.broken && !this.ended && !lease.client.broken && lease.client.supports('CHUNKING')) {
      this.bdat = true;
      return { ok: true, reply: DATA_OK };
    }
    return this.exchange(['DATA']);
  }

  /**
   * Streams the message to the backend through `stages` (the last one dot-stuffs;
   * the proxy's own headers come out of them too) and returns the backend's verdict
   * on the final dot. After DATA began there is no failover: a backend that fails now
   * gets the client a 451, and the client retries.
   */
  async streamData(message: MessageSource, stages: readonly Stage[], endsWithCrlf: () => boolean, beforeEnd?: () => Promise<void>): Promise<StepResult> {
    const lease = this.lease;
    if (!lease || this.ended) return { ok: false, reply: this.ended ? gone() : reply('backend-failed', 'no backend connection') };
    const client = lease.client;
    this.busy = true;
    try {
      await pump(message, stages, client.dataSink(this.bdat), beforeEnd);
    } catch (err) {
      // never let the backend see a final dot for a message we did not get whole or refused
      this.busy = false;
      const backendBroke = client.broken && client.broken.kind === 'backend-unhealthy' ? client.broken : null;
      this.release('destroy');
      const stage = err as Partial<StageFailure>;
      if (stage.reply) return { ok: false, reply: stage.reply };
      if (this.ended || (err as SmtpClientError).code === 'ECLIENTGONE') return { ok: false, reply: gone() };
      if (backendBroke) return this.unhealthy(lease, backendBroke, 'backend-failed', false);
      return { ok: false, reply: reply('backend-failed', (err as Error).message) };
    }
    if (!endsWithCrlf()) client.write('\r\n');
    let r: SmtpReply;
    try {
      r = await client.finishData(this.o.dataTimeout);
    } catch (err) {
      // The backend may or may not have the message: the client retries, so at worst a duplicate, never a loss.
      this.busy = false;
      this.release('destroy');
      if (this.ended) return { ok: false, reply: gone() };
      const e = err as SmtpClientError;
      return this.unhealthy(lease, e, e.code === 'ETIMEDOUT' ? 'backend-timeout' : 'backend-failed', false);
    }
    this.busy = false;
    lease.exchanges++;
    this.ended = true;
    if (r.code === 421) return this.unhealthy(lease, closingError(r), 'backend-failed', false);
    this.release('reuse');
    if (r.code < 300) {
      lease.backend.delivered();
      return { ok: true, reply: r };
    }
    return refused(r);
  }

  /**
   * The transaction ends (RSET, QUIT, a finished message, a client gone, the session
   * closed): the backend connection comes back to its pool. Mid-command or mid-DATA it
   * is dropped (never QUIT inside DATA); after MAIL it is reset first.
   */
  async end(): Promise<void> {
    if (this.ended && !this.lease) return;
    this.ended = true;
    for (const listener of this.onEnd.splice(0)) listener();
    const lease = this.lease;
    if (!lease) return;
    if (this.busy) return this.release('destroy');
    if (!this.mailSent || lease.client.broken) return this.release('reuse');
    this.busy = true;
    try {
      const r = await lease.client.command('RSET');
      this.release(r.code === 250 ? 'reuse' : 'quit');
    } catch {
      this.release('destroy');
    } finally {
      this.busy = false;
    }
  }

  /**
   * Puts `lines` to the backend after MAIL (sent with them when it was not yet) and
   * judges the last reply; moves to the next backend while the current one is unhealthy.
   */
  private async exchange(lines: string[]): Promise<StepResult> {
    for (;;) {
      if (this.broken) return { ok: false, reply: this.broken };
      if (this.ended) return { ok: false, reply: gone() };
      if (!this.lease && !(await this.attachNext())) return { ok: false, reply: this.ended ? gone() : reply('no-backend') };
      const lease = this.lease!;
      const replay = this.mailSent ? [] : [this.mailLine, ...this.recipients.map((r) => `RCPT TO:<${r}>`)];
      const answer = await this.send(lease, [...replay, ...lines]);
      if (this.ended) return { ok: false, reply: gone() };
      if (answer instanceof SmtpClientError) {
        this.unhealthy(lease, answer, 'backend-failed', true);
        continue;
      }
      // a 421 is the backend going away, whatever it answers: the transaction moves on
      const closing = answer.find((r) => r.code === 421);
      if (closing) {
        this.unhealthy(lease, closingError(closing), 'backend-failed', true);
        continue;
      }
      if (replay.length) {
        const [mail, ...again] = answer.slice(0, replay.length);
        // the first RCPT carries MAIL: the backend's answer to MAIL is the answer to it
        if (mail.code >= 300) return this.recipients.length ? this.breakOff(`${mail.code} ${mail.text}`) : refused(mail);
        this.mailSent = true;
        const lost = again.find((r) => r.code >= 300);
        // a recipient the client was told 250 for cannot be taken on this backend: never drop it silently
        if (lost) return this.breakOff(`a recipient accepted before was refused after failover: ${lost.code} ${lost.text}`);
      }
      const last = answer[answer.length - 1];
      return last.code < 400 ? { ok: true, reply: last } : refused(last);
    }
  }

  /** Sends lines on the lease; the replies, or the unhealthy failure (never throws). */
  private async send(lease: Lease, lines: string[]): Promise<SmtpReply[] | SmtpClientError> {
    this.busy = true;
    try {
      const replies = await lease.client.pipeline(lines);
      lease.exchanges++;
      return replies;
    } catch (err) {
      return err instanceof SmtpClientError ? err : new SmtpClientError('EPROTOCOL', (err as Error).message);
    } finally {
      this.busy = false;
    }
  }

  /** Leases a connection on the next backend not tried yet that can be had; false when none is left. */
  private async attachNext(): Promise<boolean> {
    for (;;) {
      if (this.ended) return false;
      const backend = this.o.balancer.choose({ sender: this.o.sender, clientIp: this.o.who.ip }, this.tried);
      if (!backend) return false;
      this.tried.add(backend);
      try {
        const lease = await backend.pool.lease(this.o.who, this);
        if (this.ended) {
          lease.release('reuse');
          return false;
        }
        this.lease = lease;
        this.backend = backend;
        this.mailSent = false;
        return true;
      } catch (err) {
        const e = err as SmtpClientError;
        if (e.code === 'ECLIENTGONE') return false;
        if (e.kind === 'backend-unhealthy') {
          // a refused connection leaves no doubt; the health checks bring the backend back
          if (e.code === 'ECONNECTION' && /ECONNREFUSED|EHOSTUNREACH|ENETUNREACH/.test(e.message)) backend.markDown(e.message);
          else backend.recordFailure(e.message);
        }
        this.o.onFailover?.(backend, e.message);
      }
    }
  }

  /**
   * The current backend failed by itself: counted against it (unless a pooled
   * connection turned out stale before its first reply), its connection dropped.
   * `moving`: the transaction goes on on another backend (a failover).
   */
  private unhealthy(lease: Lease, err: SmtpClientError, reason: 'backend-failed' | 'backend-timeout', moving: boolean): StepResult {
    const stale = !lease.fresh && lease.exchanges === 0 && err.code === 'ECONNECTION';
    if (stale) this.tried.delete(lease.backend);
    else {
      lease.backend.recordFailure(err.message);
      if (moving) this.o.onFailover?.(lease.backend, err.message);
    }
    this.release('destroy');
    return { ok: false, reply: reply(reason, err.message) };
  }

  /** The transaction cannot go on whole on any backend: every later step gets 451. */
  private breakOff(why: string): StepResult {
    this.broken = reply('backend-failed', why);
    this.release('quit');
    return { ok: false, reply: this.broken };
  }

  private release(mode: 'reuse' | 'quit' | 'destroy'): void {
    const lease = this.lease;
    if (!lease) return;
    this.lease = null;
    lease.release(mode);
  }
}

function closingError(r: SmtpReply): SmtpClientError {
  return new SmtpClientError('ECLOSING', `backend closing: ${r.code} ${r.text.split('\n')[0]}`, undefined, r.code, r.text);
}

/** The client is gone: nobody reads this reply, but the log line and the metrics do. */
function gone(): Reply {
  return reply('client-gone');
}
