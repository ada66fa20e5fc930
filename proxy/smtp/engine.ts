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

type Send = (code: number, data?: string | string[] | null, context?: string | false) => void;
type WriteFn = (chunk: Buffer, encoding: BufferEncoding, next: (err?: Error | null) => void) => void;

/** What a reply hook may ask for: hold the reply (ms), or replace it and close. */
export type ReplyDecision = number | { code: number; text: string };

export interface EngineHooks {
  /** Inbound bytes pass this gate before the parser takes them (null: no throttling). */
  inboundGate?: (connection: SMTPConnection) => { gate: Gate; detach: () => void } | null;
  /** Sees every reply the session is about to write. */
  beforeReply?: (connection: SMTPConnection, code: number) => ReplyDecision;
}

/** Makes the parser wait at the gate: the socket pipe stops feeding it, so the socket pauses. */
function gateParser(parser: { _write: WriteFn }, gate: Gate): void {
  const write = parser._write.bind(parser);
  parser._write = (chunk, encoding, next) => {
    const wait = gate(chunk.length);
    if (!wait) return write(chunk, encoding, next);
    wait.then(
      () => write(chunk, encoding, next),
      () => write(chunk, encoding, next),
    );
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
      const c = connection as unknown as { _parser: { _write: WriteFn }; _createParser(): { _write: WriteFn } };
      gateParser(c._parser, gated.gate);
      // STARTTLS makes a new parser for the TLS socket; it waits at the same gate
      const create = c._createParser.bind(connection);
      c._createParser = () => {
        const parser = create();
        gateParser(parser, gated.gate);
        return parser;
      };
      socket.once('close', gated.detach);
    }
    connection._setListeners(() => connection.connectionReady());
  }

  private wrapSend(connection: SMTPConnection): void {
    const send: Send = connection.send.bind(connection);
    const write: Send = (code, data, context) => (typeof data === 'string' && OWN_ENHANCED.test(data) ? send(code, data, false) : send(code, data, context));
    // tarpit: a held reply goes out `decision` ms from now, never before one held earlier
    let lastAt = 0;
    connection.send = (code, data, context) => {
      const decision = this.hooks.beforeReply?.(connection, code) ?? 0;
      if (typeof decision === 'object') return write(decision.code, decision.text, false);
      const now = Date.now();
      const at = Math.max(now + decision, lastAt);
      if (at <= now) return write(code, data, context);
      lastAt = at;
      setTimeout(() => write(code, data, context), at - now);
    };
  }
}
