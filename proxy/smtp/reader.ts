// What a client session reads: command lines one at a time, and between them a
// message (DATA). Bytes pass the bandwidth gate before anything looks at them; while
// they wait there, or while the backend is slow to take the message, or while
// pipelined commands pile up unread, the socket is paused, so TCP backpressure slows
// the sender itself. The idle timer runs only while the session waits for the client.
import { isUtf8 } from 'node:buffer';
import type net from 'node:net';
import type { Gate } from '../throttle.ts';
import type { MessageConsumer, MessageSource } from '../relay/pump.ts';
import { DataReader } from './data-reader.ts';

export interface Line {
  text: string;
  /** the bytes were not valid UTF-8 (the text has replacement characters) */
  invalidUtf8: boolean;
}

export type LineResult = Line | { end: 'closed' | 'too-long' | 'idle' | 'deadline' | 'interrupted' };

/** How a message ended: its final dot, the client gone, or the client idle too long. */
export type MessageEnd = 'end' | 'closed' | 'idle';

/** The message after a 354. */
export interface IncomingMessage extends MessageSource {
  /** Resolves once the message is over; after a refusal the rest of it is read and dropped. */
  finished(): Promise<MessageEnd>;
}

export interface ReaderOptions {
  /** longest command line, CRLF included (RFC 5321 4.5.3.1.4: 512) */
  maxLine: number;
  idleTimeout: () => number;
  /** how long a whole command line may take to arrive, however its bytes trickle in */
  commandDeadline: () => number;
}

/** Message bytes that count as progress (a slowloris dripping into DATA makes none). */
const PROGRESS_BYTES = 1024;

/** Unread pipelined input beyond this pauses the socket until the session catches up. */
const MAX_UNREAD = 64 * 1024;

type Piece = Buffer | 'end';

export class SessionReader {
  private socket: net.Socket | null = null;
  private unread: Buffer = EMPTY;
  private waiter: ((r: LineResult) => void) | null = null;
  private closed = false;
  /** why the socket is paused: each reason holds it until it clears */
  private holds = new Set<'gate' | 'consumer' | 'unread'>();
  private gateQueue: Buffer[] = [];
  private gating = false;
  // DATA
  private data: DataReader | null = null;
  private consumer: MessageConsumer | null = null;
  private pieces: Piece[] = [];
  private messageEnd: MessageEnd | null = null;
  private dataDone: ((end: MessageEnd) => void) | null = null;

  /** when the client last made progress: a whole command line, or PROGRESS_BYTES of message */
  lastProgress = Date.now();
  private progressBytes = 0;
  private deadline: NodeJS.Timeout | null = null;

  private readonly onData = (chunk: Buffer) => this.gated(chunk);
  private readonly onTimeout = () => this.timedOut();

  /** the bandwidth gate inbound bytes pass (null: no throttling) */
  gate: Gate | null = null;

  constructor(private readonly o: ReaderOptions) {}

  /** Starts reading `socket` (the TCP socket, or the TLS socket after STARTTLS). */
  attach(socket: net.Socket): void {
    this.socket = socket;
    socket.on('data', this.onData);
    socket.on('timeout', this.onTimeout);
    if (this.holds.size) socket.pause();
    else socket.resume();
  }

  /** Stops reading (the socket is handed to TLS); what was read and not used is dropped. */
  detach(): void {
    const socket = this.socket;
    if (!socket) return;
    socket.off('data', this.onData);
    socket.off('timeout', this.onTimeout);
    socket.setTimeout(0);
    this.socket = null;
    this.unread = EMPTY;
    this.gateQueue = [];
  }

  /** Drops what the client sent ahead (after STARTTLS: RFC 3207 5, CVE-2011-0411). */
  discardUnread(): void {
    this.unread = EMPTY;
    this.gateQueue = [];
    this.release('unread');
  }

  /** The client is gone: whoever waits learns it now. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket?.setTimeout(0);
    if (this.deadline) clearTimeout(this.deadline);
    this.settle({ end: 'closed' });
    this.failMessage('closed', 'the client went away before the end of the message');
  }

  /** Wakes a session that waits for a command (shutdown), without losing input. */
  interrupt(): void {
    this.settle({ end: 'interrupted' });
  }

  /** The next command line. */
  nextLine(): Promise<LineResult> {
    if (this.closed) return Promise.resolve({ end: 'closed' });
    const line = this.takeLine();
    if (line) return Promise.resolve(line);
    return new Promise((resolve) => {
      this.waiter = resolve;
      this.armIdle();
      this.armDeadline(this.o.commandDeadline());
    });
  }

  /** Whether the session waits for its client now (a command line, or more of a message). */
  get waitingForClient(): boolean {
    return this.waiter !== null || (this.consumer !== null && this.pieces.length === 0 && !this.holds.has('consumer') && !this.holds.has('gate'));
  }

  /** The limits got shorter (stress mode): a wait in progress gets the new ones, if they end sooner. */
  tighten(): void {
    if (this.waiter) {
      const left = this.deadlineAt - Date.now();
      if (this.o.commandDeadline() < left) this.armDeadline(this.o.commandDeadline());
    }
    if (this.waitingForClient) this.armIdle();
  }

  private deadlineAt = 0;

  private armDeadline(ms: number): void {
    this.deadlineAt = Date.now() + ms;
    if (this.deadline) clearTimeout(this.deadline);
    this.deadline = setTimeout(() => this.settle({ end: 'deadline' }), ms);
    this.deadline.unref();
  }

  /** The message after a 354: its pieces go to the consumer, then its end. */
  message(): IncomingMessage {
    this.data = new DataReader();
    this.pieces = [];
    this.messageEnd = null;
    const finished = new Promise<MessageEnd>((resolve) => (this.dataDone = resolve));
    let rest: Buffer | null = this.unread;
    this.unread = EMPTY;
    this.release('unread');
    const start = (consumer: MessageConsumer) => {
      this.consumer = consumer;
      if (rest?.length) this.ingestData(rest);
      rest = null;
      this.deliver();
    };
    return {
      read: start,
      resume: () => {
        this.release('consumer');
        this.deliver();
      },
      finished: () => {
        if (this.messageEnd === null) {
          // whoever took the message stopped (a refusal): the rest is read and dropped
          if (rest) start(skipAll());
          else this.consumer = skipAll();
          this.release('consumer');
          this.deliver();
        }
        return finished;
      },
    };
  }

  private gated(chunk: Buffer): void {
    if (this.gating) {
      this.gateQueue.push(chunk);
      return;
    }
    const wait = this.gate?.(chunk.length);
    if (!wait) return this.ingest(chunk);
    // held by the throttle: not idle, and not reading more until the bytes may pass
    this.gating = true;
    this.hold('gate');
    this.socket?.setTimeout(0);
    const go = () => {
      this.gating = false;
      this.ingest(chunk);
      const queued = this.gateQueue;
      this.gateQueue = [];
      this.release('gate');
      for (const c of queued) this.gated(c);
    };
    wait.then(go, go);
  }

  private ingest(chunk: Buffer): void {
    if (this.closed) return;
    if (this.data) return this.ingestData(chunk);
    this.unread = this.unread.length ? Buffer.concat([this.unread, chunk]) : chunk;
    if (this.waiter) {
      const line = this.takeLine();
      if (line) return this.settle(line);
    }
    if (this.unread.length > MAX_UNREAD) this.hold('unread');
  }

  private ingestData(chunk: Buffer): void {
    this.progressBytes += chunk.length;
    if (this.progressBytes >= PROGRESS_BYTES) {
      this.progressBytes = 0;
      this.lastProgress = Date.now();
    }
    const out: Buffer[] = [];
    const after = this.data!.feed(chunk, out);
    this.pieces.push(...out);
    if (after) {
      this.pieces.push('end');
      this.data = null;
      this.unread = after;
      this.lastProgress = Date.now();
    }
    this.deliver();
  }

  /** Hands pieces to the consumer until it wants to wait; the end last. */
  private deliver(): void {
    const consumer = this.consumer;
    if (!consumer) return;
    while (this.pieces.length && !this.holds.has('consumer')) {
      const piece = this.pieces.shift()!;
      if (piece === 'end') {
        this.consumer = null;
        this.messageEnd = 'end';
        const done = this.dataDone;
        this.dataDone = null;
        consumer.end();
        done?.('end');
        if (this.unread.length > MAX_UNREAD) this.hold('unread');
        return;
      }
      if (!consumer.chunk(piece)) this.hold('consumer');
    }
    if (this.consumer && !this.pieces.length && !this.holds.has('consumer')) this.armIdle();
  }

  private failMessage(why: 'closed' | 'idle', message: string): void {
    // most sessions end between messages: no Error (and no stack trace) for them
    if (this.messageEnd !== null || !this.dataDone) return;
    this.messageEnd = why;
    const consumer = this.consumer;
    this.consumer = null;
    this.pieces = [];
    this.data = null;
    consumer?.fail(new Error(message));
    const done = this.dataDone;
    this.dataDone = null;
    done(why);
  }

  private takeLine(): LineResult | null {
    const buf = this.unread;
    const nl = buf.indexOf(0x0a);
    if (nl < 0) {
      if (buf.length >= this.o.maxLine) return { end: 'too-long' };
      return null;
    }
    if (nl + 1 > this.o.maxLine) return { end: 'too-long' };
    const end = nl > 0 && buf[nl - 1] === 0x0d ? nl - 1 : nl;
    const bytes = buf.subarray(0, end);
    this.unread = buf.subarray(nl + 1);
    if (this.unread.length <= MAX_UNREAD) this.release('unread');
    this.lastProgress = Date.now();
    const ascii = isAscii(bytes);
    const text = ascii ? bytes.toString('latin1') : bytes.toString('utf8');
    return { text, invalidUtf8: !ascii && !isUtf8(bytes) };
  }

  private settle(r: LineResult): void {
    const waiter = this.waiter;
    if (!waiter) return;
    this.waiter = null;
    this.socket?.setTimeout(0);
    if (this.deadline) clearTimeout(this.deadline);
    waiter(r);
  }

  /** Waiting for the client: idle from now on, unless something else holds the socket. */
  private armIdle(): void {
    if (!this.socket || this.closed || this.holds.has('gate') || this.holds.has('consumer')) return;
    this.socket.setTimeout(this.o.idleTimeout());
  }

  private timedOut(): void {
    this.socket?.setTimeout(0);
    if (this.waiter) return this.settle({ end: 'idle' });
    this.failMessage('idle', 'the client was idle too long in the middle of the message');
  }

  private hold(why: 'gate' | 'consumer' | 'unread'): void {
    this.holds.add(why);
    this.socket?.pause();
  }

  private release(why: 'gate' | 'consumer' | 'unread'): void {
    if (!this.holds.delete(why)) return;
    if (this.holds.size === 0 && !this.closed) this.socket?.resume();
  }
}

function skipAll(): MessageConsumer {
  return { chunk: () => true, end: () => {}, fail: () => {} };
}

function isAscii(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] > 0x7f) return false;
  return true;
}

const EMPTY = Buffer.alloc(0);
