// Connections to one backend, reused across transactions, at most `maxConnections`
// open. A transaction leases a connection and the lease always comes back, through
// Lease.release() alone: kept idle for the next transaction, closed with QUIT, or
// destroyed. The pool is the only owner of the counts (busy, idle, open): they are
// derived from its own sets, never incremented by anyone else (undici's pool-base).
//
// A connection that carries a client identity (XCLIENT or a PROXY header) is only
// reused for that same client; an idle one is closed with QUIT after idleTimeout.
import type { Backend } from '../balancer/backend.ts';
import { SmtpClientError } from '../errors.ts';
import { identityKey, xclientCommand, type ClientIdentity } from './identity.ts';
import { proxyHeader } from './proxy-protocol.ts';
import { SmtpClient } from './smtp-client.ts';

export interface PoolOptions {
  helo: string;
  connectTimeout: number;
  commandTimeout: number;
  idleTimeout: number;
  queueTimeout: number;
}

/** How a lease comes back: clean for reuse, closed politely, or dropped (mid-command, mid-DATA). */
export type ReleaseMode = 'reuse' | 'quit' | 'destroy';

export class Lease {
  private returned = false;
  /** Replies received on this lease; a reused connection that breaks before any was stale, not sick. */
  exchanges = 0;

  constructor(
    readonly client: SmtpClient,
    readonly backend: Backend,
    /** opened for this lease (not taken from the idle connections) */
    readonly fresh: boolean,
    /** the client identity the connection carries ('' for none) */
    readonly identity: string,
    private readonly giveBack: (lease: Lease, mode: ReleaseMode) => void,
  ) {}

  /** Hands the connection back; only the first call counts. */
  release(mode: ReleaseMode): void {
    if (this.returned) return;
    this.returned = true;
    this.giveBack(this, mode);
  }
}

interface Idle {
  client: SmtpClient;
  identity: string;
  timer: NodeJS.Timeout;
}

interface Waiter {
  wake: () => void;
}

/** Lets a transaction stop waiting for a connection when it ends (cheaper than an AbortController per transaction). */
export interface Cancellation {
  readonly cancelled: boolean;
  /** calls `listener` once on cancel; returns the function that unregisters it */
  onCancel(listener: () => void): () => void;
}

export class BackendPool {
  private idle: Idle[] = [];
  private readonly leases = new Set<Lease>();
  /** connections being opened, and those saying QUIT: they still take a place at the backend */
  private connecting = 0;
  private readonly quitting = new Set<SmtpClient>();
  private waiters: Waiter[] = [];
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

  /** Connections leased by transactions now. */
  get busy(): number {
    return this.leases.size;
  }

  get idleCount(): number {
    return this.idle.length;
  }

  /** Every connection that takes a place at the backend: leased, idle, opening, quitting. */
  get open(): number {
    return this.leases.size + this.idle.length + this.connecting + this.quitting.size;
  }

  private identityOf(who: ClientIdentity): string {
    return this.backend.xclient || this.backend.proxyProtocol !== 'off' ? identityKey(who) : '';
  }

  /** True when a transaction could get a connection now without waiting. */
  get hasCapacity(): boolean {
    return this.open < this.backend.maxConnections || this.idle.length > 0;
  }

  /**
   * A ready connection for this client: an idle one, a new one, or the next one freed.
   * Throws a backend-unhealthy SmtpClientError when the backend cannot be reached,
   * ENOCAPACITY when no connection came free within queueTimeout, ECLIENTGONE when
   * `cancel` says the transaction ended meanwhile.
   */
  async lease(who: ClientIdentity, cancel?: Cancellation): Promise<Lease> {
    const identity = this.identityOf(who);
    const deadline = Date.now() + this.options.queueTimeout;
    for (;;) {
      if (this.closed) throw new SmtpClientError('ENOCAPACITY', `backend ${this.backend.name} is being removed`);
      if (cancel?.cancelled) throw new SmtpClientError('ECLIENTGONE', 'the transaction ended while waiting for a backend connection');
      const i = this.idle.findIndex((c) => c.identity === identity);
      if (i >= 0) {
        const [entry] = this.idle.splice(i, 1);
        clearTimeout(entry.timer);
        if (!entry.client.broken) return this.hand(entry.client, false, entry.identity);
        continue;
      }
      if (this.open >= this.backend.maxConnections && this.idle.length) {
        // full of connections that carry another client's identity: recycle the oldest
        this.quit(this.idle.shift()!);
      }
      if (this.open < this.backend.maxConnections) return this.connect(who, identity);
      const left = deadline - Date.now();
      if (left <= 0) throw new SmtpClientError('ENOCAPACITY', `backend ${this.backend.name} has no free connection (maxConnections ${this.backend.maxConnections})`);
      await this.waitForRoom(left, cancel);
    }
  }

  private waitForRoom(ms: number, cancel?: Cancellation): Promise<void> {
    return new Promise<void>((resolve) => {
      const waiter: Waiter = { wake: () => done() };
      const timer = setTimeout(() => done(), ms);
      const forget = cancel?.onCancel(() => done());
      const done = () => {
        clearTimeout(timer);
        forget?.();
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve();
      };
      this.waiters.push(waiter);
    });
  }

  private wakeOne(): void {
    this.waiters[0]?.wake();
  }

  private hand(client: SmtpClient, fresh: boolean, identity: string): Lease {
    const lease = new Lease(client, this.backend, fresh, identity, (l, mode) => this.giveBack(l, mode));
    this.leases.add(lease);
    return lease;
  }

  /** Opens a connection and leases it; it counts as open from the first moment (`connecting`). */
  private async connect(who: ClientIdentity, identity: string): Promise<Lease> {
    const b = this.backend;
    this.connecting++;
    try {
      const client = await SmtpClient.connect({
        host: b.address.host,
        port: b.address.port,
        connectTimeout: this.options.connectTimeout,
        commandTimeout: this.options.commandTimeout,
        helo: this.options.helo,
        preamble: b.proxyProtocol === 'off' ? undefined : proxyHeader(b.proxyProtocol, who),
      });
      try {
        await this.introduce(client, who);
      } catch (err) {
        client.destroy();
        throw err;
      }
      // an idle connection the backend drops (its own timeout) leaves the pool at once
      client.whenBroken(() => this.forget(client));
      return this.hand(client, true, identity);
    } finally {
      this.connecting--;
      this.wakeOne();
    }
  }

  /** Tells an XCLIENT backend who the client is (Postfix smtpd_authorized_xclient_hosts). */
  private async introduce(client: SmtpClient, who: ClientIdentity): Promise<void> {
    const b = this.backend;
    if (!b.xclient) return;
    if (client.supports('XCLIENT')) {
      // Postfix smtpd answers 220 (a new greeting), smtp-sink 250. The EHLO after it
      // carries the client's own HELO name, as nginx's mail proxy does, so the
      // backend's Received header and HELO checks see the client, not the proxy.
      await client.expect(xclientCommand(who), [220, 250]);
      await client.hello(who.helo && /^[\x21-\x7e]+$/.test(who.helo) ? who.helo : undefined);
    } else if (!this.warnedNoXclient) {
      this.warnedNoXclient = true;
      this.warn(`backend ${b.name} has xclient: true but does not offer XCLIENT; the client address is not passed on`);
    }
  }

  private giveBack(lease: Lease, mode: ReleaseMode): void {
    this.leases.delete(lease);
    const client = lease.client;
    if (mode === 'destroy' || client.broken) client.destroy();
    else if (mode === 'quit' || this.closed) this.quit({ client });
    else this.keep(client, lease.identity);
    this.wakeOne();
  }

  private keep(client: SmtpClient, identity: string): void {
    const entry: Idle = {
      client,
      identity,
      timer: setTimeout(() => {
        this.idle = this.idle.filter((e) => e !== entry);
        this.quit(entry);
      }, this.options.idleTimeout),
    };
    entry.timer.unref();
    this.idle.push(entry);
  }

  private forget(client: SmtpClient): void {
    const before = this.idle.length;
    this.idle = this.idle.filter((e) => {
      if (e.client !== client) return true;
      clearTimeout(e.timer);
      return false;
    });
    if (this.idle.length !== before) this.wakeOne();
  }

  private quit(entry: Pick<Idle, 'client'> & Partial<Idle>): void {
    if (entry.timer) clearTimeout(entry.timer);
    const client = entry.client;
    this.quitting.add(client);
    void client.quit().finally(() => {
      this.quitting.delete(client);
      this.wakeOne();
    });
  }

  /** Closes idle connections; leased ones close when their transaction gives them back. */
  async close(): Promise<void> {
    this.closed = true;
    const idle = this.idle.splice(0);
    for (const w of [...this.waiters]) w.wake();
    await Promise.all(
      idle.map((e) => {
        clearTimeout(e.timer);
        return e.client.quit();
      }),
    );
  }
}
