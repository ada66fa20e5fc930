// The SMTP stage hooks (onMailFrom, onRcptTo, onData, onClose): policies first,
// then the relay transaction. Replies come from proxy/replies.ts or from the
// backend, never spelled out here.
import type { Readable } from 'node:stream';
import type { SMTPServerAddress, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { Balancer } from '../balancer/balancer.ts';
import type { ProxyConfig } from '../config/schema.ts';
import type { ProxyEmitter, Stage } from '../events.ts';
import { formatReply, reply, type Reply } from '../replies.ts';
import { receivedHeader } from '../relay/message.ts';
import { DotStuffer } from '../stages/dot-stuff.ts';
import { HoldBack } from '../stages/hold-back.ts';
import type { MessageInspection } from '../defenses.ts';
import type { ClientIdentity } from '../relay/pool.ts';
import { RelayTransaction, type StepResult } from '../relay/transaction.ts';

/** What the proxy keeps about one client connection. */
export interface ClientState {
  id: string;
  identity: ClientIdentity;
  tx: RelayTransaction | null;
  txStarted: number;
  connectedAt: number;
}

export interface SessionContext {
  config: () => ProxyConfig;
  balancer: () => Balancer;
  events: ProxyEmitter;
  /** Policies that may refuse a sender or a recipient (issue: defenses). */
  checkMail?: (state: ClientState, session: SMTPServerSession, sender: string) => Promise<Reply | null>;
  checkRcpt?: (state: ClientState, session: SMTPServerSession, rcpt: string) => Promise<Reply | null>;
  /** Guards and filters the message streams through, and the headers they add. */
  inspect?: (state: ClientState, session: SMTPServerSession) => MessageInspection;
}

type Callback = (err?: Error | null) => void;

export interface ReplyError extends Error {
  responseCode: number;
}

/** An smtp-server hook error carrying our reply; the engine keeps our enhanced code. */
export function replyError(r: Pick<Reply, 'code' | 'enhanced' | 'text'>): ReplyError {
  const err = new Error(`${r.enhanced} ${r.text}`) as ReplyError;
  err.responseCode = r.code;
  return err;
}

function fromStep(result: StepResult): Error | null {
  if (result.ok) return null;
  return replyError(result.reply);
}

const PASS_PARAMS = new Set(['SIZE', 'BODY', 'SMTPUTF8', 'RET', 'ENVID']);

/**
 * The head of each message held back so the filters' headers (X-Spam-Score) can go
 * in front of it; the spam filter scores the first 256 KB of body as well.
 */
const HOLD_BYTES = 256 * 1024;

export class SessionHooks {
  readonly clients = new Map<string, ClientState>();

  constructor(private readonly ctx: SessionContext) {}

  state(session: SMTPServerSession): ClientState {
    return this.clients.get(session.id)!;
  }

  private refuse(state: ClientState, stage: Stage, r: Reply, cb: Callback): void {
    this.ctx.events.refused(state.identity.ip, stage, r);
    cb(replyError(r));
  }

  async onMailFrom(address: SMTPServerAddress, session: SMTPServerSession, cb: Callback): Promise<void> {
    const state = this.state(session);
    if (!state) return cb(new Error('connection state lost'));
    await this.endTransaction(state);
    state.identity.helo = session.hostNameAppearsAs || '';
    const sender = address.address;
    const refusal = await this.ctx.checkMail?.(state, session, sender);
    if (refusal) return this.refuse(state, 'mail', refusal, cb);
    const params = Object.entries(address.args || {})
      .filter(([k]) => PASS_PARAMS.has(k.toUpperCase()))
      .map(([k, v]) => (v === true ? k.toUpperCase() : `${k.toUpperCase()}=${v}`));
    const tx = new RelayTransaction({
      balancer: this.ctx.balancer(),
      who: state.identity,
      sender,
      mailParams: params,
      dataTimeout: this.ctx.config().backends.dataTimeout,
      onFailover: (backend, why) => this.ctx.events.emit('failover', { backend: backend.name, why }),
    });
    state.tx = tx;
    state.txStarted = Date.now();
    const result = await tx.begin();
    if (!result.ok) {
      state.tx = null;
      this.report(state, session, tx, 0, result);
      if (result.reply.reason !== 'backend-reply') this.ctx.events.refused(state.identity.ip, 'mail', result.reply);
    }
    cb(fromStep(result));
  }

  async onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, cb: Callback): Promise<void> {
    const state = this.state(session);
    if (!state?.tx) return cb(replyError(reply('need-mail')));
    const refusal = await this.ctx.checkRcpt?.(state, session, address.address);
    if (refusal) return this.refuse(state, 'rcpt', refusal, cb);
    const result = await state.tx.addRecipient(address.address);
    cb(fromStep(result));
  }

  onData(stream: SMTPServerDataStream, session: SMTPServerSession, cb: (err?: Error | null, message?: string) => void): void {
    const state = this.state(session);
    const tx = state?.tx;
    if (!state || !tx) {
      stream.resume();
      return cb(replyError(reply('need-mail')));
    }
    const config = this.ctx.config();
    const id = `${session.id}.${session.transaction}`;
    const recipients = session.envelope.rcptTo.map((r) => r.address);
    const inspection = this.ctx.inspect?.(state, session) ?? { stages: [], headers: () => '' };
    const trace = receivedHeader({
      helo: session.hostNameAppearsAs || '',
      clientIp: state.identity.ip,
      hostname: config.hostname,
      protocol: session.transmissionType || 'ESMTP',
      id,
      recipients,
    });
    const hold = new HoldBack(HOLD_BYTES, (complete) => trace + inspection.headers(complete));
    const stuffer = new DotStuffer();
    // The client went away mid-DATA: the backend must not get a final dot.
    const onClientGone = () => tx.destroy();
    stream.once('error', onClientGone);
    tx.data(stream as unknown as Readable, [...inspection.stages, hold, stuffer], () => stuffer.endsWithCrlf()).then(
      (result) => {
        stream.off('error', onClientGone);
        state.tx = null;
        this.report(state, session, tx, stream.byteLength, result, id);
        if (!result.ok) {
          if (result.reply.reason !== 'backend-reply') {
            this.ctx.events.refused(state.identity.ip, 'data', result.reply);
          }
          return cb(replyError(result.reply));
        }
        const text = result.reply.text.split('\n')[0];
        cb(null, /^2\.\d+\.\d+ /.test(text) ? text : `2.0.0 ${text}`);
      },
      (err: Error) => {
        state.tx = null;
        cb(replyError(reply('internal-error', err.message)));
      },
    );
  }

  async onClose(session: SMTPServerSession): Promise<void> {
    const state = this.clients.get(session.id);
    if (!state) return;
    this.clients.delete(session.id);
    await this.endTransaction(state);
    this.ctx.events.emit('closed', { client: state.identity.ip, durationMs: Date.now() - state.connectedAt });
  }

  /** A transaction the client left (RSET, new MAIL, disconnect) is cleaned up at the backend. */
  async endTransaction(state: ClientState): Promise<void> {
    const tx = state.tx;
    if (!tx) return;
    state.tx = null;
    await tx.abort();
  }

  private report(state: ClientState, session: SMTPServerSession, tx: RelayTransaction, size: number, result: StepResult, id = `${session.id}.${session.transaction}`): void {
    const code = result.ok ? 250 : result.reply.code;
    this.ctx.events.emit('transaction', {
      id,
      client: state.identity.ip,
      sender: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
      recipients: session.envelope.rcptTo.length,
      size,
      backend: tx.backendName,
      outcome: result.ok ? 'delivered' : code >= 500 ? 'rejected' : 'deferred',
      reply: result.ok ? `250 ${result.reply.text.split('\n')[0]}` : formatReply(result.reply),
      ms: Date.now() - state.txStarted,
    });
  }
}
