// One SMTP session of an actor: opening it (connect, banner) with the connection
// events, and commands whose replies become `reply` events. Actors that need
// byte-level control use `conn` directly and report through `note`.
import { ConnectError, SmtpConnection } from '../smtp/connection.ts';
import { noReply, replyInfo, type SmtpReply } from '../smtp/reply.ts';
import type { ReplyInfo, SmtpStage } from '../events.ts';
import { targetOf, type ActorContext } from './context.ts';

export interface OpenOptions {
  timeoutMs: number;
  /** bytes written right after the TCP connect, before the banner (early talkers) */
  early?: string;
}

export type Opened = { ok: true; session: Session } | { ok: false; info: ReplyInfo; session: Session | null };

export class Session {
  private constructor(
    readonly ctx: ActorContext,
    readonly conn: SmtpConnection,
    readonly client: string,
    readonly id: number,
  ) {}

  static async open(ctx: ActorContext, clientIndex: number, o: OpenOptions): Promise<Opened> {
    const client = ctx.plan.clients[clientIndex];
    const target = targetOf(ctx, clientIndex);
    const id = ctx.nextConn();
    const actor = ctx.plan.name;
    ctx.bus.emit('conn.attempt', { actor, client, conn: id });
    const started = ctx.elapsed();
    let conn: SmtpConnection;
    try {
      conn = await SmtpConnection.open({ host: target.host, port: target.port, localAddress: client, timeoutMs: o.timeoutMs, signal: ctx.abort });
    } catch (err) {
      const e = err as ConnectError;
      const info = noReply(e.code === 'ECONNREFUSED' ? 'connection-refused' : e.code === 'ETIMEDOUT' ? 'connect-timeout' : 'connect-failed', e.message);
      ctx.bus.emit('conn.refused', { actor, client, conn: id, ...info });
      return { ok: false, info, session: null };
    }
    ctx.live.add(conn);
    void conn.whenClosed().then(() => {
      ctx.live.delete(conn);
      ctx.bus.emit('conn.closed', { actor, client, conn: id, heldMs: Math.round(ctx.elapsed() - started), by: conn.closedBy ?? 'server' });
    });
    const session = new Session(ctx, conn, client, id);
    if (o.early) await conn.write(o.early);
    const banner = await conn.read(o.timeoutMs);
    if (!banner || banner.code !== 220) {
      const info = banner ? replyInfo(banner) : noReply(conn.timedOut ? 'banner-timeout' : 'closed-before-banner');
      ctx.bus.emit('conn.refused', { actor, client, conn: id, ...info });
      if (banner) ctx.bus.emit('reply', { actor, client, conn: id, stage: 'banner', id: null, ...info });
      conn.destroy();
      return { ok: false, info, session };
    }
    ctx.bus.emit('conn.greeted', { actor, client, conn: id, ms: Math.round(ctx.elapsed() - started) });
    return { ok: true, session };
  }

  get closed(): boolean {
    return this.conn.closed;
  }

  /** Records a reply (or its absence) as a `reply` event and returns its info. */
  note(stage: SmtpStage, reply: SmtpReply | null, msgId: string | null = null): ReplyInfo {
    const info = reply ? replyInfo(reply) : noReply(this.conn.timedOut ? 'timeout' : 'connection-closed');
    this.ctx.bus.emit('reply', { actor: this.ctx.plan.name, client: this.client, conn: this.id, stage, id: msgId, ...info });
    return info;
  }

  async cmd(stage: SmtpStage, line: string, timeoutMs: number, msgId: string | null = null): Promise<{ reply: SmtpReply | null; info: ReplyInfo }> {
    await this.conn.write(line + '\r\n');
    return this.reply(stage, timeoutMs, msgId);
  }

  /** The next reply, recorded as a `reply` event (after a command written some other way: a pipelined group, the last chunk with the dot). */
  async reply(stage: SmtpStage, timeoutMs: number, msgId: string | null = null): Promise<{ reply: SmtpReply | null; info: ReplyInfo }> {
    const reply = await this.conn.read(timeoutMs);
    return { reply, info: this.note(stage, reply, msgId) };
  }

  /** The extensions of the last 250 reply to EHLO (PIPELINING, SIZE 10485760 ...: the keyword, upper case). */
  private extensions = new Set<string>();

  offers(extension: string): boolean {
    return this.extensions.has(extension);
  }

  async ehlo(name: string, timeoutMs: number): Promise<boolean> {
    const { reply } = await this.cmd('ehlo', `EHLO ${name}`, timeoutMs);
    if (reply?.code === 250) {
      this.extensions = new Set(reply.text.split('\n').slice(1).map((l) => l.split(' ')[0].toUpperCase()));
      return true;
    }
    if (reply && reply.code >= 500 && reply.code !== 554) return (await this.cmd('ehlo', `HELO ${name}`, timeoutMs)).reply?.code === 250;
    return false;
  }

  quit(): Promise<void> {
    return this.conn.quit();
  }

  destroy(): void {
    this.conn.destroy();
  }
}
