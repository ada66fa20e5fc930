// The reference proxy assembled: listener -> smtp-server engine -> session hooks
// -> relay transactions over the balancer's backends, with the admin endpoint
// and logs as observers of its events.
import type { SMTPServerOptions } from 'smtp-server';
import { readFileSync } from 'node:fs';
import type { Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { CounterStore } from './store/store.ts';
import type { ProxyConfig } from './config/schema.ts';
import type { HostPort } from './config/fields.ts';
import { Balancer } from './balancer/balancer.ts';
import { ProxyEmitter } from './events.ts';
import { createMetrics } from './admin/metrics.ts';
import { AdminServer } from './admin/server.ts';
import { attachLogger } from './log.ts';
import { SmtpEngine } from './smtp/engine.ts';
import { Listener, type Admission } from './smtp/listener.ts';
import { SessionHooks, replyError, type SessionContext } from './smtp/session.ts';
import { Defenses } from './defenses.ts';
import { reply } from './replies.ts';
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
}

/** The config as one of several workers applies it. */
function shareOf(config: ProxyConfig, share: number): ProxyConfig {
  if (share >= 1) return config;
  return {
    ...config,
    connections: { ...config.connections, max: Math.max(1, Math.ceil(config.connections.max * share)) },
    throttle: { ...config.throttle, global: config.throttle.global ? Math.max(1, Math.floor(config.throttle.global * share)) : null },
    // a backend's connection cap is the backend's to bear: the workers share it
    backends: { ...config.backends, servers: config.backends.servers.map((s) => ({ ...s, maxConnections: Math.max(1, Math.ceil(s.maxConnections * share)) })) },
  };
}

export class Proxy {
  readonly events = new ProxyEmitter();
  readonly metrics: Registry;
  private config: ProxyConfig;
  private balancer: Balancer;
  private engine: SmtpEngine;
  private listener: Listener;
  private hooks: SessionHooks;
  private admin: AdminServer | null = null;
  private defenses: Defenses;
  private closing = false;
  address: HostPort = { host: '', port: 0 };
  startedAt = Date.now();

  private readonly share: number;

  constructor(config: ProxyConfig, options: ProxyOptions = {}) {
    this.share = options.globalShare ?? 1;
    this.config = shareOf(config, this.share);
    this.balancer = new Balancer(config, {
      onHealth: (b, state, why) => this.events.emit('health', { backend: b.name, state, why }),
      warn: (message) => this.events.emit('warning', { message }),
    });
    this.defenses = new Defenses(() => this.config, this.events, Date.now, options.store);
    const ctx: SessionContext = {
      config: () => this.config,
      balancer: () => this.balancer,
      events: this.events,
      checkMail: (state, session, sender) => this.defenses.checkMail(state, session, sender),
      checkRcpt: (state, session, rcpt) => this.defenses.checkRcpt(state, session, rcpt),
      inspect: (state, session) => this.defenses.inspect(state, session),
    };
    this.hooks = new SessionHooks(ctx);
    this.engine = new SmtpEngine(this.engineOptions(config), {
      beforeReply: (connection, code, context, text) => this.defenses.beforeReply(connection, code, context, text),
      inboundGate: (connection) => this.defenses.inboundGate(connection.remoteAddress),
    });
    // a client socket error (reset, write after the client left) is the client's, not a crash
    this.engine.on('error', (err: Error & { code?: string }) => this.events.emit('client-error', { message: err.message, code: err.code ?? null }));
    this.listener = new Listener({
      greetPause: () => this.config.connections.greetPause,
      admission: this.admission(),
      events: this.events,
      startSession: (socket, client) => this.engine.connect(socket, client),
      proxyProtocolFrom: (ip) => this.config.connections.proxyProtocolFrom.length > 0 && cidrList(this.config.connections.proxyProtocolFrom).matches(ip),
    });
    this.metrics = createMetrics(this.events, () => this.balancer, () => this.listener.active, options.processMetrics ?? true);
    if (options.logger) attachLogger(this.events, options.logger);
  }

  static async start(config: ProxyConfig, options: ProxyOptions = {}): Promise<Proxy> {
    const proxy = new Proxy(config, options);
    await proxy.listen();
    return proxy;
  }

  private admission(): Admission {
    return {
      admit: (ip, open) => (this.closing ? Promise.resolve(reply('shutting-down')) : this.defenses.admit(ip, open)),
    };
  }

  private engineOptions(config: ProxyConfig): SMTPServerOptions {
    const tls = config.tls ? { key: readFileSync(config.tls.key), cert: readFileSync(config.tls.cert) } : {};
    const disabled = [...(config.tls ? [] : ['STARTTLS']), ...(config.relay.auth ? [] : ['AUTH'])];
    return {
      ...tls,
      name: config.hostname,
      banner: 'attitude',
      logger: false,
      disableReverseLookup: true,
      hideENHANCEDSTATUSCODES: false,
      hideSTARTTLS: !config.tls,
      disabledCommands: disabled,
      authOptional: true,
      allowInsecureAuth: config.relay.auth?.allowPlaintext ?? false,
      maxCommandLength: 512,
      size: config.messages.maxSize,
      socketTimeout: config.connections.idleTimeout,
      closeTimeout: config.shutdownTimeout,
      maxAllowedUnauthenticatedCommands: false as unknown as number,
      onConnect: (session, cb) => {
        this.hooks.clients.set(session.id, {
          id: session.id,
          identity: { ip: session.remoteAddress, port: session.remotePort, helo: '', localIp: session.localAddress, localPort: session.localPort },
          tx: null,
          txStarted: 0,
          connectedAt: Date.now(),
        });
        cb();
      },
      onAuth: (auth, session, cb) => this.defenses.authenticate(auth, session, cb),
      onMailFrom: (address, session, cb) => void this.hooks.onMailFrom(address, session, cb),
      onRcptTo: (address, session, cb) => void this.hooks.onRcptTo(address, session, cb),
      onData: (stream, session, cb) => this.hooks.onData(stream, session, cb),
      onClose: (session) => void this.hooks.onClose(session),
    };
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
   * Applies a new config without dropping connections: backends, limits, filters.
   * The listen and admin addresses stay as they were (a restart moves them).
   */
  reload(config: ProxyConfig): void {
    this.config = { ...shareOf(config, this.share), listen: this.config.listen, admin: this.config.admin };
    this.balancer.apply(this.config);
    this.defenses.reload();
    (this.engine.options as SMTPServerOptions).size = config.messages.maxSize;
    (this.engine.options as SMTPServerOptions).socketTimeout = config.connections.idleTimeout;
    this.events.emit('reload', { ok: true });
  }

  state() {
    return {
      listen: `${this.address.host}:${this.address.port}`,
      hostname: this.config.hostname,
      uptimeMs: Date.now() - this.startedAt,
      connections: { active: this.listener.active, max: this.config.connections.max, sessions: this.hooks.clients.size },
      transactions: { inFlight: this.inFlight() },
      closing: this.closing,
      ...this.balancer.snapshot(),
      defenses: this.defenses.snapshot(),
    };
  }

  private inFlight(): number {
    let n = 0;
    for (const c of this.hooks.clients.values()) if (c.tx) n++;
    return n;
  }

  /**
   * Graceful close: stop accepting, let transactions in flight finish (up to
   * `timeoutMs`), tell idle clients 421, then force what is left.
   */
  async close(timeoutMs = this.config.shutdownTimeout): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const listenerClosed = this.listener.close();
    const deadline = Date.now() + timeoutMs;
    const bye = reply('shutting-down');
    const connections = (this.engine as unknown as { connections: Set<{ id: string; send(code: number, text: string): void }> }).connections;
    const sayGoodbye = () => {
      for (const c of connections) {
        if (this.hooks.clients.get(c.id)?.tx) continue;
        c.send(bye.code, `${bye.enhanced} ${bye.text}`); // a 421 closes the session
      }
    };
    sayGoodbye();
    while (this.inFlight() > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      sayGoodbye();
    }
    for (const socket of this.listener.sockets) socket.destroy();
    await listenerClosed;
    await this.balancer.close();
    await this.defenses.close();
    await this.admin?.close();
  }
}

export { replyError };
