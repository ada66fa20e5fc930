// The proxy's own TCP listener. Admission runs here, before smtp-server sees the
// socket, so a refused connection (a flood, a denied network) costs one write and
// a close; then the greet pause watches for early talkers; then the SMTP session starts.
import net from 'node:net';
import { formatReply, reply, type Reply } from '../replies.ts';
import type { ProxyEmitter } from '../events.ts';
import { readProxyHeader } from './proxy-header.ts';

export interface Admission {
  /** Decides on a new connection: a refusal, or a release to call when the admitted connection closes. */
  admit(ip: string, openBeforeThis: number): Promise<Reply | { release: () => void }>;
}

export interface ListenerOptions {
  greetPause: () => number;
  /** Peers whose connections start with a PROXY protocol header naming the real client. */
  proxyProtocolFrom?: (ip: string) => boolean;
  admission: Admission;
  events: ProxyEmitter;
  /** Starts the SMTP session on an admitted, patient socket (with the real client address when a PROXY header gave it). */
  startSession: (socket: net.Socket, client?: { remoteAddress: string; remotePort: number }) => void;
}

/** How long a trusted balancer may take to send its PROXY header. */
const PROXY_HEADER_TIMEOUT_MS = 5000;

/** How long a refused client may take to read its reply before the socket is destroyed. */
const REFUSAL_LINGER_MS = 2000;

export class Listener {
  readonly server: net.Server;
  readonly sockets = new Set<net.Socket>();

  constructor(private readonly o: ListenerOptions) {
    this.server = net.createServer({ noDelay: true }, (socket) => void this.accept(socket));
    this.server.on('error', (err) => o.events.emit('warning', { message: `listener: ${err.message}` }));
  }

  listen(host: string, port: number): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port, backlog: 4096 }, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as net.AddressInfo);
      });
    });
  }

  get active(): number {
    return this.sockets.size;
  }

  private async accept(socket: net.Socket): Promise<void> {
    let ip = socket.remoteAddress ?? 'unknown';
    let client: { remoteAddress: string; remotePort: number } | undefined;
    socket.on('error', () => {}); // a reset by the peer is not our error; the session logs its own
    if (this.o.proxyProtocolFrom?.(ip)) {
      // the limits must judge the client behind the load balancer, not the balancer
      try {
        const header = await readProxyHeader(socket, PROXY_HEADER_TIMEOUT_MS);
        if (!('local' in header)) {
          ip = header.ip;
          client = { remoteAddress: header.ip, remotePort: header.port };
        }
      } catch (err) {
        this.o.events.emit('warning', { message: `connection from ${ip} dropped: ${(err as Error).message}` });
        socket.destroy();
        return;
      }
    }
    const open = this.sockets.size;
    this.sockets.add(socket);
    // A client may hang up while admission waits for the store (a Redis round trip):
    // its close must still free the socket's place and, once admitted, its slot.
    let closed = false;
    let release: (() => void) | null = null;
    socket.once('close', () => {
      closed = true;
      this.sockets.delete(socket);
      release?.();
    });
    let verdict: Reply | { release: () => void };
    try {
      verdict = await this.o.admission.admit(ip, open);
    } catch (err) {
      verdict = reply('connections-global', `admission failed: ${(err as Error).message}`);
    }
    if ('code' in verdict) {
      this.sockets.delete(socket);
      this.o.events.emit('connection', { client: ip, accepted: false, reason: verdict.reason, code: verdict.code });
      this.o.events.refused(ip, 'connect', verdict);
      return refuse(socket, verdict);
    }
    if (closed) return verdict.release();
    release = verdict.release;
    if (socket.destroyed) return;
    const pause = this.o.greetPause();
    if (pause <= 0) return this.start(socket, ip, client);
    // Postfix postscreen's pregreet test: a real MTA waits for the banner, a bot does not.
    const onEarly = () => {
      clearTimeout(timer);
      const r = reply('early-talker');
      this.o.events.emit('connection', { client: ip, accepted: false, reason: r.reason, code: r.code });
      this.o.events.refused(ip, 'connect', r);
      refuse(socket, r);
    };
    const timer = setTimeout(() => {
      socket.off('data', onEarly);
      socket.pause();
      if (!socket.destroyed) this.start(socket, ip, client);
    }, pause);
    socket.once('data', onEarly);
    socket.once('close', () => clearTimeout(timer));
  }

  private start(socket: net.Socket, ip: string, client?: { remoteAddress: string; remotePort: number }): void {
    this.o.events.emit('connection', { client: ip, accepted: true });
    this.o.startSession(socket, client);
  }

  /** Stops accepting; open connections are the proxy's to drain. */
  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Writes the refusal and closes; whatever the client still sends is read and dropped. */
export function refuse(socket: net.Socket, r: Reply): void {
  socket.removeAllListeners('data');
  socket.on('data', () => {});
  socket.end(formatReply(r) + '\r\n');
  const linger = setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS);
  linger.unref();
  socket.once('close', () => clearTimeout(linger));
}
