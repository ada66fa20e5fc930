// One mail transaction relayed to a backend. The backend is chosen at MAIL, each
// RCPT is put to it before the client gets an answer, DATA streams through, and the
// client's 250 is the backend's 250 to the final dot. Until the transaction is
// answered, a backend that fails is replaced by the next one (MAIL and the accepted
// RCPTs are replayed) and the client never notices.
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Backend } from '../balancer/backend.ts';
import type { Balancer } from '../balancer/balancer.ts';
import { SmtpClientError } from '../errors.ts';
import { passOn, reply, type Reply } from '../replies.ts';
import type { ClientIdentity } from './pool.ts';
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

/** A stage failure that carries its own reply (size guard, line endings, filters). */
export interface StageError extends Error {
  reason?: string;
  reply?: Reply;
}

export class RelayTransaction {
  backend: Backend | null = null;
  private client: SmtpClient | null = null;
  private readonly recipients: string[] = [];
  private readonly tried = new Set<Backend>();
  private done = false;

  constructor(private readonly o: TransactionOptions) {}

  get backendName(): string | null {
    return this.backend?.name ?? null;
  }

  /** MAIL FROM on the first backend that takes it. */
  async begin(): Promise<StepResult> {
    return this.moveOn(null);
  }

  async addRecipient(rcpt: string): Promise<StepResult> {
    if (this.client && !this.client.broken) {
      try {
        const r = await this.client.command(`RCPT TO:<${rcpt}>`);
        if (r.code < 300) {
          this.recipients.push(rcpt);
          return { ok: true, reply: r };
        }
        if (r.code >= 500) return { ok: false, reply: passOn(r.code, r.text) };
        // a 4xx may be this backend's trouble rather than the recipient's: try the others
        const moved = await this.moveOn(rcpt);
        return moved.ok ? moved : { ok: false, reply: passOn(r.code, r.text) };
      } catch (err) {
        this.fail(err);
      }
    }
    return this.moveOn(rcpt);
  }

  /**
   * Streams the message to the backend through `stages` (the last one dot-stuffs)
   * and returns the backend's verdict on the final dot.
   */
  async data(message: Readable, prefix: Buffer, stages: Transform[], endsWithCrlf: () => boolean): Promise<StepResult> {
    let opened = await this.openData();
    if (!opened.ok) {
      message.resume();
      return opened;
    }
    const client = this.client!;
    const sink = client.dataSink();
    sink.write(prefix);
    try {
      await pipeline([message, ...stages, sink] as unknown as [Readable, Transform]);
    } catch (err) {
      // Never let the backend see a final dot for a message we did not get or refused.
      const stageError = err as StageError;
      client.destroy(new SmtpClientError('EABORTED', `DATA aborted: ${stageError.message}`));
      this.release(false);
      message.resume();
      if (stageError.reply) return { ok: false, reply: stageError.reply };
      if (client.broken && client.broken.code !== 'EABORTED') {
        this.backend!.recordFailure(client.broken.message);
        return { ok: false, reply: reply('backend-failed', client.broken.message) };
      }
      return { ok: false, reply: reply('backend-failed', stageError.message) };
    }
    if (!endsWithCrlf()) client.socket.write('\r\n');
    try {
      const r = await client.finishData(this.o.dataTimeout);
      this.done = true;
      this.release(true);
      if (r.code < 300) {
        this.backend!.messages++;
        this.backend!.recordSuccess();
        return { ok: true, reply: r };
      }
      return { ok: false, reply: passOn(r.code, r.text) };
    } catch (err) {
      // The backend may or may not have the message: the client retries, so at worst a duplicate, never a loss.
      const e = err as SmtpClientError;
      this.backend!.recordFailure(e.message);
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
      try {
        const r = await this.client!.command('DATA');
        if (r.code === 354) return { ok: true, reply: r };
        if (r.code >= 500) return { ok: false, reply: passOn(r.code, r.text) };
        this.fail(this.client!.replyError('DATA', r));
      } catch (err) {
        this.fail(err);
      }
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
   * accepted so far and `rcpt` (when given). Returns the reply to give the client.
   */
  private async moveOn(rcpt: string | null): Promise<StepResult> {
    const { balancer } = this.o;
    let lastTemp: Reply | null = null;
    for (;;) {
      const backend = balancer.choose({ sender: this.o.sender, clientIp: this.o.who.ip }, this.tried);
      if (!backend) return { ok: false, reply: lastTemp ?? reply('no-backend') };
      this.tried.add(backend);
      let client: SmtpClient;
      try {
        client = await balancer.pool(backend).acquire(this.o.who);
      } catch (err) {
        const e = err as SmtpClientError & { cause?: unknown };
        if (/ECONNREFUSED|EHOSTUNREACH|ENETUNREACH/.test(e.message)) backend.markDown(e.message);
        else if (e.code !== 'ETIMEDOUT' || !/no free connection/.test(e.message)) backend.recordFailure(e.message);
        this.o.onFailover?.(backend, e.message);
        continue;
      }
      if (this.client) this.release(false);
      this.backend = backend;
      this.client = client;
      backend.active++;
      const steps = [`MAIL FROM:<${this.o.sender}>${this.o.mailParams.length ? ' ' + this.o.mailParams.join(' ') : ''}`, ...this.recipients.map((r) => `RCPT TO:<${r}>`)];
      if (rcpt !== null) steps.push(`RCPT TO:<${rcpt}>`);
      try {
        let final: SmtpReply | null = null;
        for (const step of steps) {
          const r = await client.command(step);
          if (r.code >= 500 && step === steps[steps.length - 1] && (steps.length === 1 || rcpt !== null)) {
            // A permanent answer to the step the client is waiting for is the backend's to
            // give. A refused MAIL leaves nothing standing; a refused RCPT keeps the rest.
            if (steps.length === 1) this.release(true);
            return { ok: false, reply: passOn(r.code, r.text) };
          }
          if (r.code >= 300) throw client.replyError(step, r);
          final = r;
        }
        if (rcpt !== null) this.recipients.push(rcpt);
        return { ok: true, reply: final! };
      } catch (err) {
        const e = err as SmtpClientError;
        if (e.code === 'EREPLY' && e.responseCode && e.responseCode < 500) lastTemp = passOn(e.responseCode, e.response ?? '');
        this.fail(err);
      }
    }
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
