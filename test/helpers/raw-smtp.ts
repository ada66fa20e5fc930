// A byte-level SMTP client for tests: sends exactly what a test says (pipelined
// commands, bare LFs, early talk) and reads whole replies.
import net from 'node:net';
import { ReplyReader, type SmtpReply } from '../../simulator/smtp/reply.ts';

export type RawReply = SmtpReply;

export class RawClient {
  private readonly reader = new ReplyReader();
  private replies: RawReply[] = [];
  private waiters: Array<(r: RawReply | null) => void> = [];
  closed = false;

  private readonly onSocketData = (d: Buffer) => this.onData(d);

  private constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', this.onSocketData);
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w(null);
    });
    socket.on('error', () => {});
  }

  /** A client on a socket that is already connected (a TLS socket after STARTTLS). */
  static over(socket: net.Socket): RawClient {
    return new RawClient(socket);
  }

  /** Stops reading: the socket is handed over (to a TLS socket on top of it). */
  detach(): void {
    this.socket.off('data', this.onSocketData);
  }

  static connect(port: number, localAddress?: string, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, localAddress }, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  private onData(d: Buffer): void {
    this.replies.push(...this.reader.feed(d));
    while (this.replies.length && this.waiters.length) this.waiters.shift()!(this.replies.shift()!);
  }

  /** The next reply, or null when the connection closed first. */
  read(timeoutMs = 5000): Promise<RawReply | null> {
    if (this.replies.length) return Promise.resolve(this.replies.shift()!);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply within ${timeoutMs}ms`)), timeoutMs);
      this.waiters.push((r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  async cmd(line: string, timeoutMs?: number): Promise<RawReply | null> {
    this.write(line + '\r\n');
    return this.read(timeoutMs);
  }

  /** EHLO, MAIL, RCPTs, DATA and the message; returns the last reply (a refused last RCPT's when none was accepted). */
  async send(from: string, to: string[], body: string, helo = 'client.test'): Promise<RawReply | null> {
    await this.cmd(`EHLO ${helo}`);
    const replies = await this.transaction(from, to, body);
    return replies[replies.length - 1] ?? null;
  }

  /**
   * MAIL, RCPTs, DATA and the message (dot-stuffed here) in a greeted session: every
   * reply, up to the first that ends the transaction (MAIL refused, no recipient
   * accepted, DATA refused). A null reply (the connection closed) ends it too.
   */
  async transaction(from: string, to: string[], body: string): Promise<RawReply[]> {
    const out: RawReply[] = [];
    const say = async (line: string) => {
      const r = await this.cmd(line);
      if (r) out.push(r);
      return r?.code;
    };
    if ((await say(`MAIL FROM:<${from}>`)) !== 250) return out;
    let accepted = 0;
    for (const r of to) if ((await say(`RCPT TO:<${r}>`)) === 250) accepted++;
    if (!accepted) return out;
    if ((await say('DATA')) !== 354) return out;
    await say(body.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..') + '\r\n.');
    return out;
  }

  close(): void {
    this.socket.destroy();
  }

  waitClosed(timeoutMs = 5000): Promise<boolean> {
    if (this.closed) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
