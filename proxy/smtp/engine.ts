// smtp-server as the protocol engine behind our own listener. Two deliberate
// departures from its defaults: no fixed 100 ms banner delay (the listener owns
// early-talker detection through `greetPause`), and replies the proxy writes carry
// their own enhanced status code instead of smtp-server's generic mapping.
import type net from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

const OWN_ENHANCED = /^[245]\.\d{1,3}\.\d{1,3} /;

type Send = (code: number, data?: string | string[] | null, context?: string | false) => void;

export interface EngineHooks {
  /** Sees every reply before it is written (the tarpit counts errors here). */
  onReply?: (connection: SMTPConnection, code: number) => void;
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
    const send: Send = connection.send.bind(connection);
    connection.send = (code, data, context) => {
      this.hooks.onReply?.(connection, code);
      if (typeof data === 'string' && OWN_ENHANCED.test(data)) return send(code, data, false);
      return send(code, data, context);
    };
    connection._setListeners(() => connection.connectionReady());
  }
}
