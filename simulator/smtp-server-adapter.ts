// The one place that touches smtp-server's private internals (the mock backends are
// smtp-server; the proxy has its own engine). Each private field used here is pinned
// by test/unit/smtp-server-adapter.test.ts, so an upgrade breaks one file loudly.
//
// What the mock backends need that smtp-server has no option for:
// - no fixed 100 ms banner delay (its connection `init()`): a mock backend must take
//   a one-message-per-connection load at thousands of connections per second;
// - replies whose text brings its own enhanced status code (`4.2.0 greylisted`)
//   written as they are, not behind smtp-server's generic one for the command;
// - the socket of a session, to drop it mid-DATA (a backend that resets), and every
//   socket, to drop them all (an outage);
// - the replies to a pipelined group in one write (proxy/tick-writer.ts), not a write each.
import type net from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { corkUntilNextTick } from '../proxy/tick-writer.ts';

/** The private parts of smtp-server relied on (pinned by the adapter test). */
export interface ServerInternals {
  connections: Set<ConnectionInternals>;
  _onError(err: Error): void;
  _onClientConnect(data: unknown): void;
}

export interface ConnectionInternals {
  id: string;
  _socket: net.Socket;
  send(code: number, data?: string | string[] | null, context?: string | false): void;
  _setListeners(callback: () => void): void;
  connectionReady(next?: () => void): void;
  on(event: string, listener: (...args: never[]) => void): void;
}

const OWN_ENHANCED = /^[245]\.\d{1,3}\.\d{1,3} /;

export class QuickSmtpServer extends SMTPServer {
  constructor(options: SMTPServerOptions) {
    super(options);
  }

  /** smtp-server's connect() without init()'s banner delay. */
  override connect(socket: net.Socket, socketOptions?: Record<string, unknown>): void {
    const self = this as unknown as ServerInternals;
    const connection = new SMTPConnection(this as never, socket as never, socketOptions as never) as unknown as ConnectionInternals;
    self.connections.add(connection);
    connection.on('error', (err: Error) => self._onError(err));
    connection.on('connect', (data: unknown) => self._onClientConnect(data));
    const send = connection.send.bind(connection);
    // context false: smtp-server adds no enhanced code of its own
    connection.send = (code, data, context) => {
      // the replies to a pipelined group go out in one write, as a C server's do: a
      // write per reply costs the mock more than the rest of its work
      corkUntilNextTick(connection._socket);
      send(code, data, typeof data === 'string' && OWN_ENHANCED.test(data) ? false : context);
    };
    connection._setListeners(() => connection.connectionReady());
  }

  /** The TCP socket of session `id`, if it is still open. */
  socketOf(id: string): net.Socket | undefined {
    for (const c of (this as unknown as ServerInternals).connections) if (c.id === id) return c._socket;
    return undefined;
  }

  /** Drops every session at once. */
  dropAll(): void {
    for (const c of (this as unknown as ServerInternals).connections) c._socket.destroy();
  }
}
