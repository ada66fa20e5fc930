// Prometheus metrics, fed by the proxy's events. Each proxy has its own registry so
// several proxies in one process (the simulator, tests) do not share counters.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Balancer } from '../balancer/balancer.ts';
import type { ProxyEmitter } from '../events.ts';
import type { HoldBudget } from '../stages/hold-back.ts';

/**
 * prom-client's gauges that break Prometheus' naming rules (`_total` is for counters,
 * promtool says so): each is only the sum of its per-type gauge beside it
 * (`sum(attitude_nodejs_active_handles)`), so nothing is lost without them.
 */
const TOTAL_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** The process metrics are named by prom-client (process_cpu_seconds_total, nodejs_*): the prefix only says whose. */
export const DEFAULT_METRICS_PREFIX = 'attitude_';

export interface MetricSources {
  balancer: () => Balancer;
  activeConnections: () => number;
  /** connections.max as configured (not one worker's share) */
  maxConnections: () => number;
  /** messages.holdBackTotal and what is held */
  holdBudget: HoldBudget;
  /** the process metrics (CPU, memory, event loop) */
  processMetrics: boolean;
}

export function createMetrics(events: ProxyEmitter, o: MetricSources): Registry {
  const { balancer, activeConnections, maxConnections } = o;
  const registry = new Registry();
  if (o.processMetrics) {
    collectDefaultMetrics({ register: registry, prefix: DEFAULT_METRICS_PREFIX });
    for (const name of TOTAL_GAUGES) registry.removeSingleMetric(DEFAULT_METRICS_PREFIX + name);
  }
  const connections = new Counter({ name: 'attitude_connections_total', help: 'Connections by result', labelNames: ['result', 'reason'], registers: [registry] });
  new Gauge({ name: 'attitude_connections_active', help: 'Open client connections', registers: [registry], collect() { this.set(activeConnections()); } });
  new Gauge({
    name: 'attitude_connections_max',
    help: 'The configured cap on client connections (connections.max)',
    // every worker says the whole cap: the merged page says it once
    aggregator: 'max',
    registers: [registry],
    collect() {
      this.set(maxConnections());
    },
  });
  // with --workers, on while any worker is under stress (a sum would say 2)
  const stress = new Gauge({ name: 'attitude_stress_active', help: '1 while stress mode is on (shorter timeouts, the idlest sessions shed at the cap)', aggregator: 'max', registers: [registry] });
  stress.set(0);
  const stressChanges = new Counter({ name: 'attitude_stress_changes_total', help: 'Times stress mode began or ended', labelNames: ['state'], registers: [registry] });
  const refusals = new Counter({ name: 'attitude_refusals_total', help: 'Refusals by the limit or filter that fired', labelNames: ['reason', 'stage', 'code'], registers: [registry] });
  const transactions = new Counter({ name: 'attitude_transactions_total', help: 'Mail transactions by outcome', labelNames: ['outcome', 'backend'], registers: [registry] });
  const backendMessages = new Counter({ name: 'attitude_backend_messages_total', help: 'Messages a backend accepted', labelNames: ['backend'], registers: [registry] });
  const latency = new Histogram({
    name: 'attitude_transaction_duration_seconds',
    help: 'Time from MAIL to the final reply, per backend',
    labelNames: ['backend', 'outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const failovers = new Counter({ name: 'attitude_failovers_total', help: 'Transactions moved off a failing backend', labelNames: ['backend'], registers: [registry] });
  const throttled = new Counter({ name: 'attitude_throttle_wait_seconds_total', help: 'Time clients were held back by bandwidth throttling', labelNames: ['scope'], registers: [registry] });
  const throttledBytes = new Counter({ name: 'attitude_throttled_bytes_total', help: 'Bytes that had to wait for the throttle', labelNames: ['scope'], registers: [registry] });
  new Gauge({
    name: 'attitude_backend_up',
    help: '1 when the backend is healthy',
    labelNames: ['backend'],
    // with --workers, up when any worker sees it up
    aggregator: 'max',
    registers: [registry],
    collect() {
      this.reset();
      for (const b of balancer().list()) this.set({ backend: b.name }, b.health === 'up' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'attitude_backend_active',
    help: 'Transactions in flight per backend',
    labelNames: ['backend'],
    registers: [registry],
    collect() {
      this.reset();
      for (const b of balancer().list()) this.set({ backend: b.name }, b.active);
    },
  });
  new Gauge({
    name: 'attitude_backend_connections',
    help: 'Open connections per backend',
    labelNames: ['backend'],
    registers: [registry],
    collect() {
      this.reset();
      for (const b of balancer().list()) this.set({ backend: b.name }, b.open);
    },
  });

  const budget = o.holdBudget;
  new Gauge({ name: 'attitude_hold_back_bytes', help: 'Bytes of message heads held back for whole-message headers (bounded by messages.holdBackTotal)', registers: [registry], collect() { this.set(budget.used); } });
  new Counter({
    name: 'attitude_hold_back_overflows_total',
    help: 'Messages streamed on without whole-message headers because messages.holdBackTotal was reached',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(budget.overflows);
    },
  });

  events.on('connection', (e) => connections.inc({ result: e.accepted ? 'accepted' : 'refused', reason: e.reason ?? '' }));
  events.on('refusal', (e) => refusals.inc({ reason: e.reason, stage: e.stage, code: String(e.code) }));
  events.on('transaction', (e) => {
    transactions.inc({ outcome: e.outcome, backend: e.backend ?? '' });
    if (e.outcome === 'delivered' && e.backend) backendMessages.inc({ backend: e.backend });
    latency.observe({ backend: e.backend ?? '', outcome: e.outcome }, e.ms / 1000);
  });
  const dnsLists = new Counter({ name: 'attitude_dns_list_lookups_total', help: 'DNSBL/DNSWL lookups at connect by zone and result (failed counts as not listed)', labelNames: ['zone', 'result'], registers: [registry] });
  events.on('dns-list', (e) => dnsLists.inc({ zone: e.zone, result: e.result }));
  events.on('failover', (e) => failovers.inc({ backend: e.backend }));
  events.on('stress', (e) => {
    stress.set(e.active ? 1 : 0);
    stressChanges.inc({ state: e.active ? 'on' : 'off' });
  });
  events.on('throttle', (e) => {
    throttled.inc({ scope: e.scope }, e.waitMs / 1000);
    throttledBytes.inc({ scope: e.scope }, e.bytes);
  });
  return registry;
}
