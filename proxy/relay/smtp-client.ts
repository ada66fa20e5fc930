// The proxy's own SMTP client towards backends. nodemailer's SMTPConnection sends a
// whole envelope at once; a proxy must answer each RCPT with the backend's own
// verdict and stream DATA with backpressure, so it talks the protocol one command
// at a time here.
//
// Replies come back as values, whatever their code: judging them is the caller's
// job. Failures of the connection itself (refused, dropped, timed out, garbage, a
// reply nobody asked for, a 421) break the client with a typed SmtpClientError.
import net from 'node:net';
import { SmtpClientError } from '../errors.ts';
import { TickWriter } from '../tick-writer.ts';
import type { DataSink } from './pump.ts';
import { ReplyLines } from './reply-lines.ts';

export interface SmtpReply {
  code: number;
  /** Reply text without the code, lines joined by "\n". */
  text: string;
  lines: string[];
}

export interface ClientOptions {
  host: string;
  port: number;
  localAddress?: string;
  connectTimeout: number;
  commandTimeout: number;
  /** Written before anything else (PROXY protocol); a function gets the connected socket (its own addresses). */
  preamble?: Buffer | ((socket: net.Socket) => Buffer);
  helo: string;
}

interface Pending {
  command: string;
  resolve: (reply: SmtpReply) => void;
  reject: (err: SmtpClientError) => void;
  timer: NodeJS.Timeout;
}

const MAX_REPLY_BYTES = 64 * 1024;
/** Bytes of message gathered before a write to the backend (bounded memory, few syscalls). */
const DATA_BATCH = 16 * 1024;

export class SmtpClient {
  readonly socket: net.Socket;
  private readonly out: TickWriter;
  capabilities = new Map<string, string>();
  /** Why the connection can no longer be used (null while healthy). */
  broken: SmtpClientError | null = null;
  private readonly reader = new ReplyLines();
  private pending: Pending[] = [];
  private onBroken: Array<(err: SmtpClientError) => void> = [];
  /** The banner is the one reply that may come before anything was asked. */
  private banner: SmtpReply | null = null;
  private greeted = false;

  private constructor(
    readonly options: ClientOptions,
    socket: net.Socket,
  ) {
    this.socket = socket;
    this.out = new TickWriter(socket);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new SmtpClientError('ECONNECTION', `backend connection error: ${err.message}`)));
    socket.on('close', () => this.fail(new SmtpClientError('ECONNECTION', 'backend closed the connection')));
  }

  /** Connects, reads the banner, says EHLO (HELO when EHLO is refused). */
  static async connect(options: ClientOptions): Promise<SmtpClient> {
    const socket = net.connect({ host: options.host, port: options.port, localAddress: options.localAddress });
    const client = new SmtpClient(options, socket);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new SmtpClientError('ETIMEDOUT', `connect to ${options.host}:${options.port} timed out`)), options.connectTimeout);
        socket.once('connect', () => {
          clearTimeout(timer);
          resolve();
        });
        socket.once('error', (err) => {
          clearTimeout(timer);
          reject(new SmtpClientError('ECONNECTION', `connect to ${options.host}:${options.port} failed: ${err.message}`));
        });
      });
      const preamble = typeof options.preamble === 'function' ? options.preamble(socket) : options.preamble;
      if (preamble) socket.write(preamble);
      const banner = await client.wait('banner', options.connectTimeout);
      if (banner.code !== 220) throw client.setupError('banner', banner);
      client.greeted = true;
      await client.hello();
      return client;
    } catch (err) {
      client.destroy(err instanceof SmtpClientError ? err : undefined);
      throw err instanceof SmtpClientError ? err : (client.broken ?? err);
    }
  }

  /** EHLO, falling back to HELO; records the capabilities. A backend that refuses both is unusable. */
  async hello(name = this.options.helo): Promise<void> {
    let reply = await this.command(`EHLO ${name}`);
    if (reply.code >= 500) {
      reply = await this.command(`HELO ${name}`);
      this.capabilities = new Map();
    } else {
      this.capabilities = new Map(
        reply.lines.slice(1).map((line) => {
          const [key, ...rest] = line.trim().split(/\s+/);
          return [key.toUpperCase(), rest.join(' ')] as [string, string];
        }),
      );
    }
    if (reply.code !== 250) throw this.setupError('EHLO', reply);
  }

  supports(extension: string): boolean {
    return this.capabilities.has(extension);
  }

  /** Sends one command line and waits for its reply (any code). */
  command(line: string, timeout = this.options.commandTimeout): Promise<SmtpReply> {
    if (this.broken) return Promise.reject(this.broken);
    this.write(line + '\r\n');
    return this.wait(line.split(' ')[0], timeout);
  }

  /**
   * Sends several commands and returns their replies in order: in one write when the
   * backend offers PIPELINING (RFC 2920), one at a time otherwise.
   */
  async pipeline(lines: string[], timeout = this.options.commandTimeout): Promise<SmtpReply[]> {
    if (lines.length === 1 || !this.supports('PIPELINING')) {
      const replies: SmtpReply[] = [];
      for (const line of lines) replies.push(await this.command(line, timeout));
      return replies;
    }
    if (this.broken) throw this.broken;
    this.write(lines.join('\r\n') + '\r\n');
    return Promise.all(lines.map((line) => this.wait(line.split(/[ :]/)[0], timeout)));
  }

  /**
   * Writes made in one tick leave in one segment (pipelined commands); during DATA
   * the message is gathered up to DATA_BATCH bytes, so a small message and its final
   * dot cost the socket one write instead of three.
   */
  write(data: string | Buffer): boolean {
    if (this.batch) {
      this.batch.push(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
      this.batchBytes += data.length;
      return this.batchBytes < DATA_BATCH || this.flushBatch();
    }
    return this.out.write(data);
  }

  private batch: Buffer[] | null = null;
  private batchBytes = 0;

  /** Sends what DATA gathered; false when the socket wants the sender to wait for 'drain'. */
  private flushBatch(last = false): boolean {
    const batch = this.batch;
    if (!batch || (batch.length === 0 && !last)) return true;
    const bytes = this.batchBytes;
    this.batch = [];
    this.batchBytes = 0;
    if (this.chunks) {
      // BDAT: each chunk is framed by its size and answered on its own; they are pipelined
      // (RFC 3030 allows it without PIPELINING) and the answers are read at the end
      const head = Buffer.from(`BDAT ${bytes}${last ? ' LAST' : ''}\r\n`, 'latin1');
      if (!last) this.chunks.push(this.settled(this.wait('BDAT', this.options.commandTimeout)));
      return this.socket.write(Buffer.concat([head, ...batch], head.length + bytes));
    }
    return this.socket.write(batch.length === 1 ? batch[0] : Buffer.concat(batch));
  }

  /** The replies to the BDAT chunks sent so far (null: not in BDAT). */
  private chunks: Array<Promise<SmtpReply | SmtpClientError>> | null = null;

  /** A reply to wait for later, as a value: an error it ends with is not unhandled meanwhile. */
  private settled(reply: Promise<SmtpReply>): Promise<SmtpReply | SmtpClientError> {
    return reply.catch((err: SmtpClientError) => err);
  }

  /** Sends a command and requires one of `codes`; any other reply breaks the connection setup (EPROTOCOL). */
  async expect(line: string, codes: number[]): Promise<SmtpReply> {
    const reply = await this.command(line);
    if (!codes.includes(reply.code)) throw this.setupError(line.split(' ')[0], reply);
    return reply;
  }

  /**
   * Where the message bytes go to the backend, with backpressure: after DATA's 354,
   * dot-stuffed by the caller; or, with `chunked`, as they are in BDAT chunks (no DATA sent).
   */
  dataSink(chunked = false): DataSink {
    const socket = this.socket;
    this.batch = [];
    this.batchBytes = 0;
    this.chunks = chunked ? [] : null;
    return {
      write: (chunk) => {
        if (this.broken) throw this.broken;
        return this.write(chunk);
      },
      drained: (callback) => {
        const done = () => {
          socket.off('drain', done);
          socket.off('close', done);
          callback(this.broken);
        };
        socket.on('drain', done);
        socket.on('close', done);
      },
    };
  }

  /**
   * Ends DATA with the final dot (or BDAT with its LAST chunk) and waits for the
   * backend's verdict. In BDAT the first chunk the backend refused is the verdict.
   */
  async finishData(timeout: number): Promise<SmtpReply> {
    if (this.broken) throw this.broken;
    const chunks = this.chunks;
    if (!chunks) {
      this.write('.\r\n');
      this.flushBatch();
      this.batch = null;
      return this.wait('DATA', timeout);
    }
    const last = this.settled(this.wait('BDAT', timeout));
    this.flushBatch(true);
    this.batch = null;
    this.chunks = null;
    for (const r of [...chunks, last]) {
      const reply = await r;
      if (reply instanceof Error) throw reply;
      if (reply.code >= 300 || r === last) return reply;
    }
    throw new SmtpClientError('EPROTOCOL', 'no reply to BDAT');
  }

  /** Polite close: QUIT, then end. Never used inside DATA. */
  async quit(): Promise<void> {
    if (this.broken) return this.destroy();
    try {
      await this.command('QUIT', Math.min(this.options.commandTimeout, 2000));
    } catch {
      // the backend may close before answering QUIT; nothing is lost either way
    }
    this.destroy();
  }

  /** Abrupt close: used on any error and to abort DATA so the backend never sees a final dot. */
  destroy(reason?: SmtpClientError): void {
    this.batch = null;
    this.fail(reason ?? new SmtpClientError('EABORTED', 'connection closed by the proxy'));
    this.socket.destroy();
  }

  whenBroken(listener: (err: SmtpClientError) => void): void {
    if (this.broken) listener(this.broken);
    else this.onBroken.push(listener);
  }

  /** A reply that makes the connection unusable before any transaction: the banner, EHLO, XCLIENT. */
  private setupError(command: string, reply: SmtpReply): SmtpClientError {
    const code = reply.code === 421 ? 'ECLOSING' : 'EPROTOCOL';
    return new SmtpClientError(code, `backend answered ${command} with ${reply.code} ${reply.text}`, command, reply.code, reply.text);
  }

  private wait(command: string, timeout: number): Promise<SmtpReply> {
    return new Promise<SmtpReply>((resolve, reject) => {
      if (this.broken) return reject(this.broken);
      const timer = setTimeout(() => {
        this.destroy(new SmtpClientError('ETIMEDOUT', `backend did not answer ${command} within ${timeout}ms`, command));
      }, timeout);
      if (this.banner) {
        const banner = this.banner;
        this.banner = null;
        clearTimeout(timer);
        return resolve(banner);
      }
      this.pending.push({ command, resolve, reject, timer });
    });
  }

  private onData(chunk: Buffer): void {
    this.reader.feed(chunk, (lines) => this.completeReply(lines));
    if (this.reader.pendingBytes > MAX_REPLY_BYTES) this.destroy(new SmtpClientError('EPROTOCOL', 'backend reply line too long'));
  }

  private completeReply(lines: string[]): void {
    if (this.broken) return;
    const code = Number(lines[lines.length - 1].slice(0, 3));
    if (!(code >= 200 && code < 600) || lines.some((l) => !/^\d{3}([ -]|$)/.test(l))) {
      this.destroy(new SmtpClientError('EPROTOCOL', `backend sent a malformed reply: ${JSON.stringify(lines.join('\n').slice(0, 200))}`));
      return;
    }
    const texts = lines.map((l) => l.slice(4));
    const reply: SmtpReply = { code, text: texts.join('\n'), lines: texts };
    const waiter = this.pending.shift();
    if (!waiter) {
      // the banner may come before the client waits for it; anything else nobody asked for
      // (a 421 on an idle connection, a stray line) means the two sides are out of step
      if (!this.greeted && !this.banner) {
        this.banner = reply;
        return;
      }
      const why = code === 421 ? 'ECLOSING' : 'EPROTOCOL';
      this.destroy(new SmtpClientError(why, `backend sent a reply nobody asked for: ${code} ${reply.text.split('\n')[0].slice(0, 200)}`, undefined, code, reply.text));
      return;
    }
    clearTimeout(waiter.timer);
    waiter.resolve(reply);
    // a 421 is the server's last word: the connection is gone whatever the command was
    if (code === 421) this.destroy(new SmtpClientError('ECLOSING', `backend closing: ${code} ${reply.text.split('\n')[0]}`, waiter.command, code, reply.text));
  }

  private fail(err: SmtpClientError): void {
    if (this.broken) return;
    this.broken = err;
    for (const waiter of this.pending.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(err.command ? err : new SmtpClientError(err.code, err.message, waiter.command, err.responseCode, err.response));
    }
    for (const listener of this.onBroken.splice(0)) listener(err);
  }
}
