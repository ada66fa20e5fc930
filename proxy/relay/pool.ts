// Connections to one backend, reused across transactions, at most `maxConnections`
// open. A connection that carries a client identity (XCLIENT or a PROXY header) is
// only reused for that same client; an idle one is closed with QUIT after idleTimeout.
import type { Backend } from '../balancer/backend.ts';
import { SmtpClientError } from '../errors.ts';
import { proxyHeader } from './proxy-protocol.ts';
import { SmtpClient } from './smtp-client.ts';

export interface PoolOptions {
  helo: string;
  connectTimeout: number;
  commandTimeout: number;
  idleTimeout: number;
  queueTimeout: number;
}

/** Who the backend is told the client is (XCLIENT / PROXY protocol). */
export interface ClientIdentity {
  ip: string;
  port: number;
  helo: string;
  localIp: string;
  localPort: number;
}

interface Idle {
  client: SmtpClient;
  identity: string;
  timer: NodeJS.Timeout;
}

export class BackendPool {
  private idle: Idle[] = [];
  private waiters: Array<() => void> = [];
  private closed = false;
  private warnedNoXclient = false;

  constructor(
    readonly backend: Backend,
    private options: PoolOptions,
    private warn: (msg: string) => void = () => {},
  ) {}

  setOptions(options: PoolOptions): void {
    this.options = options;
  }

  private identityOf(who: ClientIdentity): string {
    return this.backend.xclient || this.backend.proxyProtocol !== 'off' ? `${who.ip} ${who.helo}` : '';
  }

  /** True when a transaction could get a connection now without waiting. */
  get hasCapacity(): boolean {
    return this.backend.open < this.backend.maxConnections || this.idle.length > 0;
  }

  /** A ready connection for this client: an idle one, a new one, or the next one freed. */
  async acquire(who: ClientIdentity): Promise<SmtpClient> {
    const identity = this.identityOf(who);
    const deadline = Date.now() + this.options.queueTimeout;
    for (;;) {
      if (this.closed) throw new SmtpClientError('ECONNECTION', `backend ${this.backend.name} is being removed`);
      const i = this.idle.findIndex((c) => c.identity === identity);
      if (i >= 0) {
        const [entry] = this.idle.splice(i, 1);
        clearTimeout(entry.timer);
        if (!entry.client.broken) return entry.client;
        continue;
      }
      if (this.backend.open >= this.backend.maxConnections && this.idle.length) {
        // full of connections that carry another client's identity: recycle the oldest
        this.idle.shift()!.client.quit().catch(() => {});
      }
      if (this.backend.open < this.backend.maxConnections) return this.connect(who, identity);
      const left = deadline - Date.now();
      if (left <= 0) throw new SmtpClientError('ETIMEDOUT', `backend ${this.backend.name} has no free connection (maxConnections ${this.backend.maxConnections})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.push(done);
      });
    }
  }

  private async connect(who: ClientIdentity, identity: string): Promise<SmtpClient> {
    const b = this.backend;
    b.open++;
    let client: SmtpClient;
    try {
      client = await SmtpClient.connect({
        host: b.address.host,
        port: b.address.port,
        connectTimeout: this.options.connectTimeout,
        commandTimeout: this.options.commandTimeout,
        helo: this.options.helo,
        preamble: b.proxyProtocol === 'off' ? undefined : proxyHeader(b.proxyProtocol, who),
      });
    } catch (err) {
      this.closedOne();
      throw err;
    }
    client.whenBroken(() => this.closedOne());
    try {
      await this.introduce(client, who);
    } catch (err) {
      client.destroy();
      throw err;
    }
    return client;
  }

  /** Tells an XCLIENT backend who the client is (Postfix smtpd_authorized_xclient_hosts). */
  private async introduce(client: SmtpClient, who: ClientIdentity): Promise<void> {
    const b = this.backend;
    if (b.xclient) {
      if (client.supports('XCLIENT')) {
        const proto = who.helo ? 'ESMTP' : 'SMTP';
        const helo = who.helo ? ` HELO=${xtext(who.helo)}` : '';
        // Postfix smtpd answers 220 (a new greeting), smtp-sink 250. The EHLO after it
        // carries the client's own HELO name, as nginx's mail proxy does, so the
        // backend's Received header and HELO checks see the client, not the proxy.
        await client.expect(`XCLIENT ADDR=${who.ip} PORT=${who.port} NAME=[UNAVAILABLE]${helo} PROTO=${proto}`, [220, 250]);
        await client.hello(who.helo && /^[\x21-\x7e]+$/.test(who.helo) ? who.helo : undefined);
      } else if (!this.warnedNoXclient) {
        this.warnedNoXclient = true;
        this.warn(`backend ${b.name} has xclient: true but does not offer XCLIENT; the client address is not passed on`);
      }
    }
  }

  private closedOne(): void {
    this.backend.open = Math.max(0, this.backend.open - 1);
    this.waiters.shift()?.();
  }

  /** Hands a connection back: kept for the next transaction when it is clean, closed otherwise. */
  release(client: SmtpClient, who: ClientIdentity, reusable: boolean): void {
    if (!reusable || client.broken || this.closed) {
      if (!client.broken) client.quit().catch(() => {});
      return;
    }
    const entry: Idle = {
      client,
      identity: this.identityOf(who),
      timer: setTimeout(() => {
        this.idle = this.idle.filter((e) => e !== entry);
        client.quit().catch(() => {});
      }, this.options.idleTimeout),
    };
    entry.timer.unref();
    this.idle.push(entry);
    this.waiters.shift()?.();
  }

  get idleCount(): number {
    return this.idle.length;
  }

  /** Closes idle connections; busy ones close when their transaction releases them. */
  async close(): Promise<void> {
    this.closed = true;
    const idle = this.idle.splice(0);
    for (const w of this.waiters.splice(0)) w();
    await Promise.all(
      idle.map((e) => {
        clearTimeout(e.timer);
        return e.client.quit();
      }),
    );
  }
}

/** RFC 1891 xtext for XCLIENT attribute values. */
function xtext(value: string): string {
  return value.replace(/[^\x21-\x7e]|[+=]/g, (c) => '+' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
}
