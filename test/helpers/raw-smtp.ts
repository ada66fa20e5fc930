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

  /** Greeting, EHLO, MAIL, RCPTs, DATA and the message; returns the final reply. */
  async send(from: string, to: string[], body: string, helo = 'client.test'): Promise<RawReply | null> {
    await this.cmd(`EHLO ${helo}`);
    const mail = await this.cmd(`MAIL FROM:<${from}>`);
    if (mail?.code !== 250) return mail;
    let accepted = 0;
    for (const r of to) if ((await this.cmd(`RCPT TO:<${r}>`))?.code === 250) accepted++;
    if (!accepted) return { code: 554, text: 'no recipient accepted' };
    const data = await this.cmd('DATA');
    if (data?.code !== 354) return data;
    return this.cmd(body.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..') + '\r\n.');
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
