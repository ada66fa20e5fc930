// smtp-server as the protocol engine behind our own listener. Deliberate
// departures from its defaults: no fixed 100 ms banner delay (the listener owns
// early-talker detection through `greetPause`), replies the proxy writes carry their
// own enhanced status code instead of smtp-server's generic mapping, and two hooks
// for the defenses: a gate on inbound bytes (throttling) and a say on every reply
// (the error tarpit).
import type net from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import type { Gate } from '../throttle.ts';

const OWN_ENHANCED = /^[245]\.\d{1,3}\.\d{1,3} /;
/** smtp-server's idle timeout when `socketTimeout` is not set. */
const SOCKET_TIMEOUT = 60_000;

type Send = (code: number, data?: string | string[] | null, context?: string | false) => void;
type WriteFn = (chunk: Buffer, encoding: BufferEncoding, next: (err?: Error | null) => void) => void;

/** What a reply hook may ask for: hold the reply (ms), or replace it and close. */
export type ReplyDecision = number | { code: number; text: string };

export interface EngineHooks {
  /** Inbound bytes pass this gate before the parser takes them (null: no throttling). */
  inboundGate?: (connection: SMTPConnection) => { gate: Gate; detach: () => void } | null;
  /** Sees every reply the session is about to write; `context` is smtp-server's (`DATA_OK`: a message was accepted). */
  beforeReply?: (connection: SMTPConnection, code: number, context?: string | false, text?: unknown) => ReplyDecision;
}

/** Stops and restarts the idle timer of the connection's current socket. */
interface IdleTimer {
  stop(): void;
  restart(): void;
}

/**
 * Makes the parser wait at the gate: the socket pipe stops feeding it, so the socket
 * pauses. While bytes wait at the gate the idle timer is stopped: a paused socket reads
 * nothing, and a sender held back by the throttle must not be taken for an idle one.
 */
function gateParser(parser: { _write: WriteFn }, gate: Gate, idle: IdleTimer): void {
  const write = parser._write.bind(parser);
  parser._write = (chunk, encoding, next) => {
    const wait = gate(chunk.length);
    if (!wait) return write(chunk, encoding, next);
    idle.stop();
    const go = () => {
      idle.restart();
      write(chunk, encoding, next);
    };
    wait.then(go, go);
  };
}

export class SmtpEngine extends SMTPServer {
  constructor(
    options: SMTPServerOptions,
    private readonly hooks: EngineHooks = {},
  ) {
    super(options);
  }

  /** Starts an SMTP session on a socket our listener has already admitted. */
  override connect(socket: net.Socket, socketOptions?: Record<string, unknown>): void {
    const self = this as unknown as {
      connections: Set<SMTPConnection>;
      _onError(err: Error): void;
      _onClientConnect(data: unknown): void;
    };
    const connection = new SMTPConnection(this as never, socket as never, socketOptions as never);
    self.connections.add(connection);
    connection.on('error', (err: Error) => self._onError(err));
    connection.on('connect', (data: unknown) => self._onClientConnect(data));
    this.wrapSend(connection);
    const gated = this.hooks.inboundGate?.(connection);
    if (gated) {
      const c = connection as unknown as { _parser: { _write: WriteFn }; _createParser(): { _write: WriteFn }; _socket: net.Socket };
      // smtp-server's timeout listener stays on the socket; only its timer is stopped and re-armed
      const idle: IdleTimer = {
        stop: () => void c._socket.setTimeout(0),
        restart: () => {
          if (!c._socket.destroyed) c._socket.setTimeout(this.options.socketTimeout || SOCKET_TIMEOUT);
        },
      };
      gateParser(c._parser, gated.gate, idle);
      // STARTTLS makes a new parser for the TLS socket; it waits at the same gate
      const create = c._createParser.bind(connection);
      c._createParser = () => {
        const parser = create();
        gateParser(parser, gated.gate, idle);
        return parser;
      };
      socket.once('close', gated.detach);
    }
    connection._setListeners(() => connection.connectionReady());
  }

  private wrapSend(connection: SMTPConnection): void {
    const send: Send = connection.send.bind(connection);
    const write: Send = (code, data, context) => (typeof data === 'string' && OWN_ENHANCED.test(data) ? send(code, data, false) : send(code, data, context));
    // tarpit: replies leave in order, each one no sooner than `decision` ms after it was
    // due AND after the reply before it went out (as a server that sleeps before each
    // reply, Postfix's smtpd_error_sleep_time: pipelined errors wait one after the other)
    let tail: Promise<void> = Promise.resolve();
    let pending = 0;
    let lastWritten = 0;
    const sleepUntil = (t: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, t - Date.now())));
    connection.send = (code, data, context) => {
      const decision = this.hooks.beforeReply?.(connection, code, context, data) ?? 0;
      // a replacement (the hard-limit 421) also waits behind the replies still held
      const out: Parameters<Send> = typeof decision === 'object' ? [decision.code, decision.text, false] : [code, data, context];
      const delay = typeof decision === 'number' ? decision : 0;
      if (pending === 0 && delay <= 0) {
        lastWritten = Date.now();
        return write(...out);
      }
      const due = Date.now();
      pending++;
      tail = tail
        .then(() => sleepUntil(Math.max(due, lastWritten) + delay))
        .then(() => {
          pending--;
          lastWritten = Date.now();
          write(...out);
        })
        .catch((err: Error) => void connection.emit('error', err));
    };
  }
}
