// The reference proxy assembled: listener -> sessions (the SMTP dialogue) -> relay
// transactions over the balancer's backends, with the admin endpoint and logs as
// observers of its events.
import type { Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { CounterStore, Clock } from './store/store.ts';
import type { ProxyConfig } from './config/schema.ts';
import type { HostPort } from './config/fields.ts';
import { Balancer } from './balancer/balancer.ts';
import { ProxyEmitter } from './events.ts';
import { createMetrics } from './admin/metrics.ts';
import { AdminServer } from './admin/server.ts';
import { attachLogger } from './log.ts';
import { Listener, type Admission } from './smtp/listener.ts';
import { Sessions } from './smtp/sessions.ts';
import { Certificates } from './smtp/tls.ts';
import { Defenses } from './defenses.ts';
import { Dns } from './dns.ts';
import { Pressure } from './pressure.ts';
import { Reputation } from './reputation.ts';
import { SenderAuth } from './senders.ts';
import { HoldBudget } from './stages/hold-back.ts';
import { reply, type Reply } from './replies.ts';
import { cidrList } from './policy/cidr.ts';

export interface ProxyOptions {
  logger?: Logger;
  /** Process metrics (CPU, memory) on /metrics; off when several proxies share a process. */
  processMetrics?: boolean;
  /** Where limit counters live, when not the config's `store` (a worker uses the primary's). */
  store?: CounterStore;
  /**
   * This instance's share of the global limits (1/N for one of N workers): the global
   * connection cap, the global bandwidth and each backend's maxConnections are split,
   * per-client limits are not.
   */
  globalShare?: number;
  /** The limits' clock (tests drive rate windows with it). */
  clock?: Clock;
}

/** The config as one of several workers applies it. */
export function shareOf(config: ProxyConfig, share: number): ProxyConfig {
  if (share >= 1) return config;
  return {
    ...config,
    connections: { ...config.connections, max: Math.max(1, Math.ceil(config.connections.max * share)) },
    throttle: { ...config.throttle, global: config.throttle.global ? Math.max(1, Math.floor(config.throttle.global * share)) : null },
    // a backend's connection cap is the backend's to bear: the workers share it
    backends: { ...config.backends, servers: config.backends.servers.map((s) => ({ ...s, maxConnections: Math.max(1, Math.ceil(s.maxConnections * share)) })) },
  };
}

/** Keys a reload cannot change in a running process. */
const RESTART_KEYS = ['listen', 'admin', 'store'] as const;

export class Proxy {
  readonly events = new ProxyEmitter();
  readonly metrics: Registry;
  readonly sessions: Sessions;
  private readonly pressure: Pressure;
  private readonly holdBudget: HoldBudget;
  private config: ProxyConfig;
  /** as the file says, before this instance's share was taken */
  private fileConfig: ProxyConfig;
  private balancer: Balancer;
  private listener: Listener;
  private admin: AdminServer | null = null;
  private defenses: Defenses;
  private certificates: Certificates;
  private dns: Dns;
  private reputation: Reputation;
  private closing = false;
  address: HostPort = { host: '', port: 0 };
  startedAt = Date.now();

  private readonly share: number;

  constructor(config: ProxyConfig, options: ProxyOptions = {}) {
    this.share = options.globalShare ?? 1;
    this.fileConfig = config;
    this.config = shareOf(config, this.share);
    this.pressure = new Pressure(() => this.config, this.events, options.clock ?? Date.now);
    this.holdBudget = new HoldBudget(config.messages.holdBackTotal);
    this.sessions = new Sessions((n) => this.pressure.update(n));
    // stress mode shortens the limits of sessions already waiting, not only of new waits
    this.events.on('stress', (e) => e.active && [...this.sessions].forEach((s) => s.reader.tighten()));
    this.certificates = new Certificates(config);
    this.dns = new Dns(config);
    this.reputation = new Reputation(() => this.config, this.dns, this.events, options.clock ?? Date.now);
    this.balancer = new Balancer(this.config, {
      onHealth: (b, state, why) => this.events.emit('health', { backend: b.name, state, why }),
      warn: (message) => this.events.emit('warning', { message }),
    });
    this.defenses = new Defenses(() => this.config, this.events, options.clock ?? Date.now, options.store);
    this.listener = new Listener({
      greetPause: () => this.config.connections.greetPause,
      reputation: (ip) => this.judge(ip),
      admission: this.admission(),
      events: this.events,
      proxyProtocolFrom: (ip) => this.config.connections.proxyProtocolFrom.length > 0 && cidrList(this.config.connections.proxyProtocolFrom).matches(ip),
      session: {
        config: () => this.config,
        balancer: () => this.balancer,
        events: this.events,
        defenses: this.defenses,
        sessions: this.sessions,
        dns: this.dns,
        pressure: this.pressure,
        senders: new SenderAuth(() => this.config, this.dns),
        holdBudget: this.holdBudget,
        secureContext: () => this.certificates.current,
      },
    });
    this.metrics = createMetrics(this.events, {
      balancer: () => this.balancer,
      activeConnections: () => this.sessions.size,
      maxConnections: () => this.fileConfig.connections.max,
      holdBudget: this.holdBudget,
      processMetrics: options.processMetrics ?? true,
    });
    if (options.logger) attachLogger(this.events, options.logger);
  }

  static async start(config: ProxyConfig, options: ProxyOptions = {}): Promise<Proxy> {
    const proxy = new Proxy(config, options);
    await proxy.listen();
    return proxy;
  }

  /**
   * Admission: the connect policies; at the global cap under stress the idlest session
   * is shed to make room (Postfix's stress mode), so a flood of slow connections cannot
   * keep new clients out.
   */
  private admission(): Admission {
    return {
      admit: async (ip, open) => {
        if (this.closing) return reply('shutting-down');
        const knownGood = this.pressure.knownGood(ip);
        const verdict = await this.defenses.admit(ip, open, knownGood);
        if (!('code' in verdict) || verdict.reason !== 'connections-global') return verdict;
        if (!this.pressure.shedIdlest(this.sessions)) return verdict;
        // the shed session's place is the newcomer's (it is still closing)
        return this.defenses.admit(ip, open - 1, knownGood);
      },
    };
  }

  /** DNS reputation at connect; clients on the allow list are not asked about. */
  private judge(ip: string): Promise<Reply | { tag: string } | null> | null {
    if (!this.reputation.enabled || cidrList(this.config.connections.allow).matches(ip)) return null;
    return this.reputation.judge(ip).then((v) => {
      if (!this.reputation.refuses(v)) return null;
      const why = this.reputation.describe(v);
      return this.config.reputation.action === 'refuse' ? reply('dnsbl', why) : { tag: why };
    });
  }

  async listen(): Promise<void> {
    await this.defenses.ready(this.events);
    const info = await this.listener.listen(this.config.listen.host, this.config.listen.port);
    this.address = { host: info.address, port: info.port };
    if (this.config.admin) {
      this.admin = new AdminServer(this);
      await this.admin.listen(this.config.admin.host, this.config.admin.port);
    }
    this.balancer.start();
  }

  get adminAddress(): HostPort | null {
    return this.admin?.address ?? null;
  }

  currentConfig(): ProxyConfig {
    return this.config;
  }

  /**
   * Applies a new config without dropping connections: backends, limits, filters and
   * the TLS certificate (new sessions get the renewed one). The listen and admin
   * addresses and the store stay as they were: a warning says when only a restart
   * would move them.
   */
  reload(config: ProxyConfig): void {
    for (const key of RESTART_KEYS) {
      if (JSON.stringify(config[key]) !== JSON.stringify(this.fileConfig[key])) {
        this.events.emit('warning', { message: `${key} changed from ${JSON.stringify(this.fileConfig[key])} to ${JSON.stringify(config[key])}: it needs a restart, the running proxy keeps the old one` });
      }
    }
    try {
      this.certificates.reload(config);
    } catch (err) {
      this.events.emit('reload', { ok: false, problems: `tls: ${(err as Error).message}` });
      return;
    }
    const kept = { ...config, listen: this.fileConfig.listen, admin: this.fileConfig.admin, store: this.fileConfig.store };
    this.fileConfig = kept;
    this.config = shareOf(kept, this.share);
    this.balancer.apply(this.config);
    this.dns.reload(this.config);
    this.holdBudget.limit = this.config.messages.holdBackTotal;
    this.defenses.reload();
    this.events.emit('reload', { ok: true });
  }

  state() {
    return {
      listen: `${this.address.host}:${this.address.port}`,
      hostname: this.config.hostname,
      uptimeMs: Date.now() - this.startedAt,
      connections: {
        active: this.sessions.size,
        // the cap as configured: one of N workers holds only its share of it (`workerMax`)
        max: this.fileConfig.connections.max,
        ...(this.share < 1 ? { workerMax: this.config.connections.max } : {}),
        sessions: this.sessions.greeted,
        slots: this.sessions.holdingSlots,
      },
      transactions: { inFlight: this.sessions.inFlight, heldBackBytes: this.holdBudget.used },
      closing: this.closing,
      ...this.balancer.snapshot(),
      stress: this.pressure.snapshot(),
      defenses: this.defenses.snapshot(),
    };
  }

  /**
   * Graceful close: stop accepting, tell idle clients 421, let transactions in flight
   * finish (up to `timeoutMs`), then tell the rest 421 too and close them.
   */
  async close(timeoutMs = this.config.shutdownTimeout): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const listenerClosed = this.listener.close();
    const deadline = Date.now() + timeoutMs;
    for (const s of this.sessions) s.shutdown();
    while (this.sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const s of this.sessions) s.forceClose();
    // the last replies get a moment to leave before the sockets go
    const gone = Date.now() + 1000;
    while (this.sessions.size > 0 && Date.now() < gone) await new Promise((r) => setTimeout(r, 20));
    for (const s of this.sessions) s.destroy();
    await listenerClosed;
    await this.balancer.close();
    await this.defenses.close();
    await this.admin?.close();
  }
}
