// The set of backends with their pools, the strategy that picks among them and
// the health checker that watches them. Reloading keeps backends that stay (their
// pools and health) and retires the ones that go once their work is done.
import type { ProxyConfig } from '../config/schema.ts';
import type { HostPort } from '../config/fields.ts';
import type { PoolOptions } from '../relay/pool.ts';
import { Backend, type HealthState } from './backend.ts';
import { HealthChecker, type HealthCheckOptions } from './health.ts';
import { createPicker, type PickContext, type Picker } from './strategies.ts';

export interface BalancerEvents {
  onHealth?: (backend: Backend, state: HealthState, why: string) => void;
  warn?: (msg: string) => void;
}

export class Balancer {
  private backends = new Map<string, Backend>();
  private picker!: Picker;
  private checker: HealthChecker;
  private strategy!: ProxyConfig['backends']['strategy'];

  constructor(
    config: ProxyConfig,
    private events: BalancerEvents = {},
  ) {
    this.checker = new HealthChecker(() => this.list(), healthOptions(config));
    this.apply(config);
  }

  start(): void {
    this.checker.start();
    void this.checker.checkAll();
  }

  list(): Backend[] {
    return [...this.backends.values()];
  }

  /**
   * The next backend for a transaction: among available ones not yet tried, those
   * with a free connection first, so a full backend does not make a client wait
   * while another one idles.
   */
  choose(ctx: PickContext, exclude: ReadonlySet<Backend>): Backend | undefined {
    const eligible = this.list().filter((b) => b.available && !exclude.has(b));
    if (!eligible.length) return undefined;
    const free = eligible.filter((b) => b.pool.hasCapacity);
    return this.picker.pick(free.length ? free : eligible, ctx);
  }

  /** Applies a (re)loaded config. */
  apply(config: ProxyConfig): void {
    const thresholds = { rise: config.backends.healthCheck.rise, fall: config.backends.healthCheck.fall };
    const poolOptions = poolOptionsOf(config);
    const keep = new Set<string>();
    for (const server of config.backends.servers) {
      if (!server.address) continue;
      const withAddress = server as typeof server & { address: HostPort };
      keep.add(server.name);
      const existing = this.backends.get(server.name);
      if (existing) {
        existing.update(withAddress, thresholds);
        existing.pool.setOptions(poolOptions);
      } else {
        const backend = new Backend(withAddress, thresholds, poolOptions, (b, state, why) => this.events.onHealth?.(b, state, why), this.events.warn);
        this.backends.set(server.name, backend);
      }
    }
    for (const [name, backend] of this.backends) {
      if (keep.has(name)) continue;
      backend.retired = true;
      this.backends.delete(name);
      void backend.pool.close();
    }
    if (config.backends.strategy !== this.strategy) {
      this.strategy = config.backends.strategy;
      this.picker = createPicker(this.strategy);
    }
    this.checker.setOptions(healthOptions(config));
  }

  async close(): Promise<void> {
    this.checker.stop();
    await Promise.all(this.list().map((b) => b.pool.close()));
  }

  snapshot() {
    return {
      strategy: this.strategy,
      backends: this.list().map((b) => b.snapshot()),
    };
  }
}

function healthOptions(config: ProxyConfig): HealthCheckOptions {
  return { ...config.backends.healthCheck, helo: config.backends.helo ?? config.hostname };
}

function poolOptionsOf(config: ProxyConfig): PoolOptions {
  const b = config.backends;
  return {
    helo: b.helo ?? config.hostname,
    connectTimeout: b.connectTimeout,
    commandTimeout: b.commandTimeout,
    idleTimeout: b.idleTimeout,
    queueTimeout: b.queueTimeout,
  };
}
