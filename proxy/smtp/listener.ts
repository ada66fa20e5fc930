// The proxy's TCP listener. Every accepted connection is a Session in the registry
// from the first moment (the global cap counts it); admission runs before any SMTP is
// spoken, so a refused connection (a flood, a denied network) costs one write and a
// close; then the greet pause watches for early talkers; then the dialogue starts.
import net from 'node:net';
import { reply, type Reply } from '../replies.ts';
import type { ProxyEmitter } from '../events.ts';
import { readProxyHeader } from './proxy-header.ts';
import { Session, type SessionContext } from './session.ts';

export interface Admission {
  /** Decides on a new connection: a refusal, or a release to call when the admitted connection closes. */
  admit(ip: string, openBeforeThis: number): Promise<Reply | { release: () => void }>;
}

/** What DNS reputation says of a client at connect: refuse it, tag its mail, or nothing (null: not asked). */
export type ReputationCheck = (ip: string) => Promise<Reply | { tag: string } | null> | null;

export interface ListenerOptions {
  greetPause: () => number;
  /** DNS reputation, looked up while the greet pause runs; the banner waits for it (bounded by dns.timeout) */
  reputation?: ReputationCheck;
  /** Peers whose connections start with a PROXY protocol header naming the real client. */
  proxyProtocolFrom?: (ip: string) => boolean;
  admission: Admission;
  events: ProxyEmitter;
  session: SessionContext;
}

/** How long a trusted balancer may take to send its PROXY header. */
const PROXY_HEADER_TIMEOUT_MS = 5000;

export class Listener {
  readonly server: net.Server;

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

  private async accept(socket: net.Socket): Promise<void> {
    let client: { remoteAddress: string; remotePort: number } | undefined;
    socket.on('error', () => {}); // a reset by the peer is not our error; the session reports its own
    const peer = socket.remoteAddress ?? 'unknown';
    if (this.o.proxyProtocolFrom?.(peer)) {
      // the limits must judge the client behind the load balancer, not the balancer
      try {
        const header = await readProxyHeader(socket, PROXY_HEADER_TIMEOUT_MS);
        if (!('local' in header)) client = { remoteAddress: header.ip, remotePort: header.port };
      } catch (err) {
        this.o.events.emit('warning', { message: `connection from ${peer} dropped: ${(err as Error).message}` });
        socket.destroy();
        return;
      }
    }
    const sessions = this.o.session.sessions;
    const open = sessions.size;
    // in the registry before admission waits for the store (a Redis round trip): a client
    // that hangs up meanwhile is closed like any session, and its slot, once granted, freed
    const session = new Session(socket, this.o.session, client);
    const ip = session.ip;
    let verdict: Reply | { release: () => void };
    try {
      verdict = await this.o.admission.admit(ip, open);
    } catch (err) {
      verdict = reply('connections-global', `admission failed: ${(err as Error).message}`);
    }
    if ('code' in verdict) return this.refuseAtConnect(session, ip, verdict);
    session.admitted(verdict.release);
    if (session.isClosed) return;
    session.phase = 'greeting';
    // postscreen's way: the DNS lists are asked while the greet pause runs
    const judged = this.o.reputation?.(ip) ?? null;
    const pause = this.o.greetPause();
    if (pause > 0 && !(await this.patient(session, ip, pause))) return;
    if (judged) {
      socket.pause(); // what the client says meanwhile waits for the session
      const r = await judged;
      if (session.isClosed) return;
      if (r && 'code' in r) return this.refuseAtConnect(session, ip, r);
      if (r) session.reputationTag = r.tag;
    }
    session.start();
  }

  /** A client refused before its banner: counted, logged, told why, and closed. */
  private refuseAtConnect(session: Session, ip: string, r: Reply): void {
    this.o.events.emit('connection', { client: ip, accepted: false, reason: r.reason, code: r.code });
    this.o.events.refused(ip, 'connect', r);
    session.reject(r);
  }

  /**
   * Postfix postscreen's pregreet test: a real MTA waits for the banner, a bot does not.
   * Resolves false (and refuses the client) when it talked during the pause.
   */
  private patient(session: Session, ip: string, pause: number): Promise<boolean> {
    const socket = session.raw;
    return new Promise((resolve) => {
      const onEarly = () => {
        clearTimeout(timer);
        this.refuseAtConnect(session, ip, reply('early-talker'));
        resolve(false);
      };
      const timer = setTimeout(() => {
        socket.off('data', onEarly);
        socket.pause();
        resolve(!session.isClosed);
      }, pause);
      socket.once('data', onEarly);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
  }

  /** Stops accepting; open connections are the proxy's to drain. */
  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
