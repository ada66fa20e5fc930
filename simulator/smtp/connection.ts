// The actors' SMTP client: a socket bound to the actor's 127.x.y.z address that
// sends exactly the bytes it is told (early talk, dripped bytes, bare LFs) and
// reads whole replies. Every wait is bounded; `destroy()` ends everything at once.
import net from 'node:net';
import { ReplyReader, type SmtpReply } from './reply.ts';

export class ConnectError extends Error {
  constructor(
    readonly code: 'ECONNREFUSED' | 'ETIMEDOUT' | 'ECONNRESET' | 'EADDRNOTAVAIL' | 'EOTHER',
    message: string,
  ) {
    super(message);
  }
}

export interface ConnectOptions {
  host: string;
  port: number;
  localAddress?: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

const MAX_PENDING_BYTES = 256 * 1024;

export class SmtpConnection {
  closed = false;
  /** who closed first */
  closedBy: 'client' | 'server' | null = null;
  private readonly reader = new ReplyReader();
  private replies: SmtpReply[] = [];
  private waiters: Array<(r: SmtpReply | null) => void> = [];
  private closeWaiters: Array<() => void> = [];
  readonly openedAt = performance.now();

  private constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.closedBy ??= 'server';
      for (const w of this.waiters.splice(0)) w(null);
      for (const w of this.closeWaiters.splice(0)) w();
    });
  }

  /** Opens the TCP connection (nothing is read yet). */
  static open(o: ConnectOptions): Promise<SmtpConnection> {
    return new Promise((resolve, reject) => {
      if (o.signal?.aborted) return reject(new ConnectError('EOTHER', 'aborted'));
      const socket = net.connect({ host: o.host, port: o.port, localAddress: o.localAddress });
      const done = (err?: ConnectError) => {
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
        socket.off('error', onError);
        if (err) {
          socket.destroy();
          reject(err);
        } else resolve(new SmtpConnection(socket));
      };
      const onError = (err: NodeJS.ErrnoException) => {
        const code = err.code === 'ECONNREFUSED' || err.code === 'ECONNRESET' || err.code === 'EADDRNOTAVAIL' ? err.code : 'EOTHER';
        done(new ConnectError(code, err.message));
      };
      const onAbort = () => done(new ConnectError('EOTHER', 'aborted'));
      const timer = setTimeout(() => done(new ConnectError('ETIMEDOUT', `connect timed out after ${o.timeoutMs}ms`)), o.timeoutMs);
      socket.once('connect', () => done());
      socket.once('error', onError);
      o.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private onData(d: Buffer): void {
    this.replies.push(...this.reader.feed(d));
    if (this.reader.pendingBytes > MAX_PENDING_BYTES) this.destroy();
    while (this.replies.length && this.waiters.length) this.waiters.shift()!(this.replies.shift()!);
  }

  /** The next reply; null when the connection closed or `timeoutMs` passed (then it is destroyed). */
  read(timeoutMs: number): Promise<SmtpReply | null> {
    if (this.replies.length) return Promise.resolve(this.replies.shift()!);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      const waiter = (r: SmtpReply | null) => {
        clearTimeout(timer);
        resolve(r);
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        this.timedOut = true;
        this.destroy();
        resolve(null);
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Set when a read gave up waiting (the null reply was a timeout, not a close). */
  timedOut = false;

  /** Whether a reply is already waiting to be read (an early 554 before the banner). */
  get hasReply(): boolean {
    return this.replies.length > 0;
  }

  /** Writes bytes; resolves when the socket can take more (backpressure, the proxy's throttle). */
  write(data: string | Buffer): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.socket.write(data)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  async command(line: string, timeoutMs: number): Promise<SmtpReply | null> {
    await this.write(line + '\r\n');
    return this.read(timeoutMs);
  }

  whenClosed(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  /** QUIT politely, bounded. */
  async quit(timeoutMs = 1000): Promise<void> {
    if (this.closed) return;
    this.closedBy ??= 'client';
    await this.command('QUIT', timeoutMs);
    this.destroy();
  }

  destroy(): void {
    if (!this.closed) this.closedBy ??= 'client';
    this.socket.destroy();
  }
}
