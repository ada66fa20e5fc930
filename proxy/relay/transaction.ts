// One mail transaction relayed to a backend. The backend is chosen at MAIL, each
// RCPT is put to it before the client gets an answer, DATA streams through, and the
// client's 250 is the backend's 250 to the final dot. Until the transaction is
// answered, a backend that fails is replaced by the next one (MAIL and the accepted
// RCPTs are replayed) and the client never notices.
//
// MAIL goes to the backend together with the first RCPT (pipelined where the backend
// offers PIPELINING): one round trip less per message, and a sender the backend
// refuses is refused at RCPT, as Postfix does with smtpd_delay_reject.
import type { Readable } from 'node:stream';
import type { Stage } from '../stages/stage.ts';
import type { StageFailure } from '../stages/stage-error.ts';
import type { Backend } from '../balancer/backend.ts';
import type { Balancer } from '../balancer/balancer.ts';
import { SmtpClientError } from '../errors.ts';
import { passOn, reply, type Reply } from '../replies.ts';
import type { ClientIdentity } from './pool.ts';
import { pump } from './pump.ts';
import type { SmtpClient, SmtpReply } from './smtp-client.ts';

export interface TransactionOptions {
  balancer: Balancer;
  who: ClientIdentity;
  sender: string;
  /** MAIL FROM parameters to pass on (SIZE=, BODY=, SMTPUTF8). */
  mailParams: string[];
  dataTimeout: number;
  onFailover?: (from: Backend, why: string) => void;
}

/** What a step ended with: the backend's reply, or a reply the proxy made up. */
export type StepResult = { ok: true; reply: SmtpReply } | { ok: false; reply: Reply };

const OK: SmtpReply = { code: 250, text: '2.1.0 Ok', lines: ['2.1.0 Ok'] };

export class RelayTransaction {
  backend: Backend | null = null;
  private client: SmtpClient | null = null;
  private mailSent = false;
  private readonly recipients: string[] = [];
  private readonly tried = new Set<Backend>();
  private done = false;

  constructor(private readonly o: TransactionOptions) {}

  get backendName(): string | null {
    return this.backend?.name ?? null;
  }

  private get mailLine(): string {
    return `MAIL FROM:<${this.o.sender}>${this.o.mailParams.length ? ' ' + this.o.mailParams.join(' ') : ''}`;
  }

  /** Chooses a backend and gets a connection to it: failover here covers backends that are down. */
  async begin(): Promise<StepResult> {
    return (await this.attachNext()) ? { ok: true, reply: OK } : { ok: false, reply: reply('no-backend') };
  }

  async addRecipient(rcpt: string): Promise<StepResult> {
    const client = this.client;
    if (client && !client.broken) {
      try {
        const steps = this.mailSent ? [`RCPT TO:<${rcpt}>`] : [this.mailLine, `RCPT TO:<${rcpt}>`];
        const replies = await client.pipeline(steps);
        let temporary: SmtpReply | null = null;
        if (!this.mailSent) {
          const mail = replies[0];
          if (mail.code >= 500) return { ok: false, reply: passOn(mail.code, mail.text) };
          if (mail.code >= 300) temporary = mail;
          else this.mailSent = true;
        }
        const r = replies[replies.length - 1];
        if (!temporary) {
          if (r.code < 300) {
            this.recipients.push(rcpt);
            return { ok: true, reply: r };
          }
          if (r.code >= 500) return { ok: false, reply: passOn(r.code, r.text) };
          temporary = r;
        }
        // A 4xx may be this backend's trouble rather than the recipient's: try the others.
        this.fail(client.replyError(temporary === r ? 'RCPT' : 'MAIL', temporary));
        const moved = await this.moveOn(rcpt);
        return moved.ok || moved.reply.reason !== 'no-backend' ? moved : { ok: false, reply: passOn(temporary.code, temporary.text) };
      } catch (err) {
        this.fail(err);
      }
    }
    return this.moveOn(rcpt);
  }

  /**
   * Streams the message to the backend through `stages` (the last one dot-stuffs;
   * the proxy's own headers come out of them too) and returns the backend's verdict
   * on the final dot.
   */
  async data(message: Readable, stages: readonly Stage[], endsWithCrlf: () => boolean): Promise<StepResult> {
    const opened = await this.openData();
    if (!opened.ok) {
      message.resume();
      return opened;
    }
    const client = this.client!;
    const backend = this.backend!;
    const sink = client.dataSink();
    try {
      await pump(message, stages, sink);
    } catch (err) {
      // Never let the backend see a final dot for a message we did not get or refused.
      const stageError = err as Error & Partial<StageFailure>;
      const backendFailure = client.broken && client.broken.code !== 'EABORTED' ? client.broken : null;
      client.destroy(new SmtpClientError('EABORTED', `DATA aborted: ${stageError.message}`));
      this.release(false);
      message.resume();
      if (stageError.reply) return { ok: false, reply: stageError.reply };
      if (backendFailure) {
        backend.recordFailure(backendFailure.message);
        return { ok: false, reply: reply('backend-failed', backendFailure.message) };
      }
      return { ok: false, reply: reply('backend-failed', stageError.message) };
    }
    if (!endsWithCrlf()) client.write('\r\n');
    try {
      const r = await client.finishData(this.o.dataTimeout);
      this.done = true;
      this.release(true);
      if (r.code < 300) {
        backend.messages++;
        backend.recordSuccess();
        return { ok: true, reply: r };
      }
      return { ok: false, reply: passOn(r.code, r.text) };
    } catch (err) {
      // The backend may or may not have the message: the client retries, so at worst a duplicate, never a loss.
      const e = err as SmtpClientError;
      backend.recordFailure(e.message);
      this.release(false);
      return { ok: false, reply: reply(e.code === 'ETIMEDOUT' ? 'backend-timeout' : 'backend-failed', e.message) };
    }
  }

  /** Client RSET, a new MAIL, or a disconnect: leave the backend clean for the next transaction. */
  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    const client = this.client;
    if (!client || client.broken) return this.release(false);
    if (!this.mailSent) return this.release(true);
    try {
      const r = await client.command('RSET');
      this.release(r.code === 250);
    } catch {
      this.release(false);
    }
  }

  /** Abrupt end (client vanished mid-DATA): close the backend connection, never QUIT inside DATA. */
  destroy(): void {
    this.done = true;
    this.client?.destroy();
    this.release(false);
  }

  private async openData(): Promise<StepResult> {
    for (;;) {
      if (!this.client || this.client.broken) {
        const moved = await this.moveOn(null);
        if (!moved.ok) return moved;
      }
      const client = this.client!;
      try {
        const r = await client.command('DATA');
        if (r.code === 354) return { ok: true, reply: r };
        if (r.code >= 500) return { ok: false, reply: passOn(r.code, r.text) };
        this.fail(client.replyError('DATA', r));
      } catch (err) {
        this.fail(err);
      }
    }
  }

  /** Connects to the next backend not tried yet that can be had; false when none is left. */
  private async attachNext(): Promise<boolean> {
    for (;;) {
      const backend = this.o.balancer.choose({ sender: this.o.sender, clientIp: this.o.who.ip }, this.tried);
      if (!backend) return false;
      this.tried.add(backend);
      if (await this.attach(backend)) return true;
    }
  }

  /** Gets a connection to `backend`; false (and the backend marked) when it cannot be had. */
  private async attach(backend: Backend): Promise<boolean> {
    try {
      const client = await this.o.balancer.pool(backend).acquire(this.o.who);
      this.release(false);
      this.backend = backend;
      this.client = client;
      this.mailSent = false;
      backend.active++;
      return true;
    } catch (err) {
      const e = err as SmtpClientError;
      if (/ECONNREFUSED|EHOSTUNREACH|ENETUNREACH/.test(e.message)) backend.markDown(e.message);
      else if (!/no free connection/.test(e.message)) backend.recordFailure(e.message);
      this.o.onFailover?.(backend, e.message);
      return false;
    }
  }

  /** Records the failure of the current backend and lets go of its connection. */
  private fail(err: unknown): void {
    const e = err as SmtpClientError;
    if (this.backend) {
      this.o.onFailover?.(this.backend, e.message);
      this.backend.recordFailure(e.message);
    }
    this.release(false);
  }

  /**
   * Moves the transaction to the next backend that takes MAIL, the recipients
   * accepted so far and `rcpt` (when given), replayed in one pipelined write.
   */
  private async moveOn(rcpt: string | null): Promise<StepResult> {
    while (await this.attachNext()) {
      const client = this.client!;
      const steps = [this.mailLine, ...this.recipients.map((r) => `RCPT TO:<${r}>`)];
      if (rcpt !== null) steps.push(`RCPT TO:<${rcpt}>`);
      try {
        const replies = await client.pipeline(steps);
        const [mail] = replies;
        if (mail.code >= 500) {
          this.release(true);
          return { ok: false, reply: passOn(mail.code, mail.text) };
        }
        const replayed = replies.slice(0, rcpt === null ? replies.length : -1);
        const bad = replayed.findIndex((r) => r.code >= 300);
        if (bad >= 0) throw client.replyError(steps[bad], replayed[bad]);
        this.mailSent = true;
        if (rcpt === null) return { ok: true, reply: mail };
        const last = replies[replies.length - 1];
        if (last.code < 300) {
          this.recipients.push(rcpt);
          return { ok: true, reply: last };
        }
        // the recipient itself is refused for good: the rest of the transaction stands here
        if (last.code >= 500) return { ok: false, reply: passOn(last.code, last.text) };
        throw client.replyError(steps[steps.length - 1], last);
      } catch (err) {
        this.fail(err);
      }
    }
    return { ok: false, reply: reply('no-backend') };
  }

  /** Lets go of the current backend connection; `reusable` when nothing stands on it. */
  private release(reusable: boolean): void {
    const client = this.client;
    const backend = this.backend;
    if (!client || !backend) return;
    this.client = null;
    backend.active = Math.max(0, backend.active - 1);
    this.o.balancer.pool(backend).release(client, this.o.who, reusable);
  }
}
