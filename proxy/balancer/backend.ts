// One backend mail server as the proxy sees it: its config, its health, and its
// pool of connections, whose counts are the backend's load. Health moves with `rise`
// successes up and `fall` failures down (HAProxy habit), fed by the active health
// checks and by transactions, and only by failures of the backend itself (refused,
// timed out, dropped, 421, garbage): a refused recipient says nothing about health.
import type { BackendServerConfig } from '../config/schema.ts';
import type { HostPort } from '../config/fields.ts';
import { BackendPool, type PoolOptions } from '../relay/pool.ts';

export type HealthState = 'up' | 'down';

export interface HealthThresholds {
  rise: number;
  fall: number;
}

export class Backend {
  readonly name: string;
  address: HostPort;
  weight: number;
  maxConnections: number;
  xclient: boolean;
  proxyProtocol: 'off' | 'v1' | 'v2';
  health: HealthState = 'up';
  readonly pool: BackendPool;
  messages = 0;
  failures = 0;
  lastError: string | null = null;
  lastChange = Date.now();
  /** Smooth weighted round-robin's running weight. */
  currentWeight = 0;
  private successes = 0;
  private consecutiveFailures = 0;
  /** Set when the backend was removed by a reload: finish in-flight work, take no new work. */
  retired = false;

  constructor(
    config: BackendServerConfig & { address: HostPort },
    private thresholds: HealthThresholds,
    poolOptions: PoolOptions,
    private onChange: (backend: Backend, state: HealthState, why: string) => void = () => {},
    warn?: (msg: string) => void,
  ) {
    this.pool = new BackendPool(this, poolOptions, warn);
    this.name = config.name;
    this.address = config.address;
    this.weight = config.weight;
    this.maxConnections = config.maxConnections;
    this.xclient = config.xclient;
    this.proxyProtocol = config.proxyProtocol;
  }

  update(config: BackendServerConfig & { address: HostPort }, thresholds: HealthThresholds): void {
    this.address = config.address;
    this.weight = config.weight;
    this.maxConnections = config.maxConnections;
    this.xclient = config.xclient;
    this.proxyProtocol = config.proxyProtocol;
    this.thresholds = thresholds;
    this.retired = false;
  }

  /** Transactions holding a connection of this backend now. */
  get active(): number {
    return this.pool.busy;
  }

  /** Connections that take a place at the backend (leased, idle, opening, closing). */
  get open(): number {
    return this.pool.open;
  }

  get available(): boolean {
    return this.health === 'up' && !this.retired;
  }

  get label(): string {
    return `${this.name} (${this.address.host}:${this.address.port})`;
  }

  /** The backend took a message (its 250 to the final dot). */
  delivered(): void {
    this.messages++;
    this.recordSuccess();
  }

  recordSuccess(): void {
    this.consecutiveFailures = 0;
    if (this.health === 'down' && ++this.successes >= this.thresholds.rise) this.setHealth('up', 'health checks passed');
  }

  recordFailure(why: string): void {
    this.successes = 0;
    this.failures++;
    this.lastError = why;
    if (this.health === 'up' && ++this.consecutiveFailures >= this.thresholds.fall) this.setHealth('down', why);
  }

  /** A failure that leaves no doubt (connection refused): down at once, health checks bring it back. */
  markDown(why: string): void {
    this.successes = 0;
    this.failures++;
    this.lastError = why;
    this.consecutiveFailures = this.thresholds.fall;
    if (this.health === 'up') this.setHealth('down', why);
  }

  private setHealth(state: HealthState, why: string): void {
    this.health = state;
    this.successes = 0;
    this.consecutiveFailures = 0;
    this.lastChange = Date.now();
    this.onChange(this, state, why);
  }

  snapshot() {
    return {
      name: this.name,
      address: `${this.address.host}:${this.address.port}`,
      health: this.health,
      weight: this.weight,
      active: this.active,
      open: this.open,
      idle: this.pool.idleCount,
      maxConnections: this.maxConnections,
      messages: this.messages,
      failures: this.failures,
      lastError: this.lastError,
      retired: this.retired,
    };
  }
}
