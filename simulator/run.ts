// The run engine: mock backends, then the proxy under test (in-process with the
// scenario's config, or an external target), then the actors for `duration`,
// then a bounded drain, then the files. It produces events and a summary; it
// never renders anything (the caller subscribes its own consumers through `onBus`).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseProxyConfig } from '../proxy/config/load.ts';
import type { HostPort } from '../proxy/config/fields.ts';
import type { ProxyConfig } from '../proxy/config/schema.ts';
import { Proxy } from '../proxy/proxy.ts';
import { BackendFarm, backendAddresses, DEFAULT_BACKEND_PORT } from './backends.ts';
import { awaitBanner } from './preflight.ts';
import { RealClock, sleep, type Clock } from './clock.ts';
import { EventBus } from './events.ts';
import { Ledger, type LedgerResult } from './ledger.ts';
import type { MockBackend } from './mock-backend.ts';
import { planSize, type Plan } from './plan.ts';
import { ProxyBridge } from './proxy-bridge.ts';
import { startLabDns } from './lab-dns.ts';
import type { MockDns } from './mock-dns.ts';
import { Recorder } from './record.ts';
import { driveActors } from './drive.ts';
import { buildSummary, type RunSummary } from './summary.ts';
import { InstanceLedger } from './instances.ts';
import { startSharedStore, type SharedStore } from './shared-store.ts';

export interface RunOptions {
  plan: Plan;
  /** the proxy config for an in-process proxy (null: built-in defaults); ignored with `target` */
  proxyConfig?: ProxyConfig | null;
  /** shown in the outputs */
  proxyConfigFile?: string | null;
  /**
   * an external proxy: the actors connect here; mock backends without `listen:` listen
   * on consecutive ports from `backendPort`, and the target must answer 220 before the run
   */
  target?: HostPort | null;
  /** with `target`: the first port of the mock backends (default 2601) */
  backendPort?: number;
  /** the backends up and no traffic this long first (default: the scenario's `warmup:`, else 5 s with a target, 0 in-process) */
  warmupMs?: number;
  /** the external proxy's admin endpoint, if it is an attitude proxy (GET /state is sampled) */
  targetAdmin?: HostPort | null;
  outDir: string;
  clock?: Clock;
  /** aborting it interrupts the run (exit 105), outputs are still written */
  signal?: AbortSignal;
  /** consumers subscribe here before anything happens (progress lines, a TUI) */
  onBus?: (bus: EventBus) => void;
  sampleMs?: number;
}

/** A target under test checks its backends before it relays: give it time with them up. */
export const TARGET_WARMUP_MS = 5000;

export interface RunResult {
  summary: RunSummary;
  outDir: string;
  exitCode: 0 | 99 | 105;
  events: number;
  /** what the ledger counted, that the summary was built from */
  ledger: LedgerResult;
}

/** Binds the proxy config to the mock backends and to loopback port 0 (runs never collide). */
export function bindProxyConfig(config: ProxyConfig | null, mocks: MockBackend[], weights: Record<string, number> = {}): ProxyConfig {
  const base = config ?? parseProxyConfig({});
  const byName = new Map(mocks.map((m) => [m.name, m]));
  const wanted = base.backends.servers.length ? base.backends.servers : mocks.map((m) => ({ name: m.name, weight: weights[m.name] ?? 1 }));
  const servers = wanted.map((s): Record<string, unknown> & { address: HostPort } => {
    const own = (s as { address?: HostPort }).address;
    if (own) return { ...s, address: own };
    const mock = byName.get(s.name);
    if (!mock) throw new Error(`proxy config server "${s.name}" has no address and no mock backend of that name`);
    return { ...s, address: { host: mock.host, port: mock.port } };
  });
  // defaults for bare `{ name }` entries come from the schema itself
  const normalized = parseProxyConfig({ backends: { servers: servers.map((s) => ({ ...s, address: `${s.address.host}:${s.address.port}` })) } }).backends.servers;
  return { ...base, listen: { host: '127.0.0.1', port: 0 }, admin: null, backends: { ...base.backends, servers: normalized } };
}

export async function runPlan(o: RunOptions): Promise<RunResult> {
  const { plan } = o;
  const scenario = plan.scenario;
  const clock = o.clock ?? new RealClock();
  // events of the setup (health checks reaching the backends) are at t = 0; the clock starts with the run
  let origin = Number.POSITIVE_INFINITY;
  const elapsed = () => Math.max(0, clock.now() - origin);
  const bus = new EventBus(elapsed);
  mkdirSync(o.outDir, { recursive: true });
  const recorder = new Recorder(path.join(o.outDir, 'events.jsonl'), bus);
  const ledger = new Ledger();
  bus.subscribe((e) => ledger.consume(e));
  o.onBus?.(bus);

  const farm = new BackendFarm(scenario.backends, plan.seed, bus);
  let labDns: MockDns | null = null;
  const proxies: Proxy[] = [];
  const bridge = new ProxyBridge(bus, o.sampleMs ?? 500);
  let targetLabel: string;
  let targets: HostPort[];
  let shared: SharedStore | null = null;
  let perClientLimit: number | null = null;
  const instances = new InstanceLedger();
  bus.subscribe((e) => instances.consume(e));
  const warmupMs = o.warmupMs ?? scenario.warmup ?? (o.target ? TARGET_WARMUP_MS : 0);
  try {
    await farm.start(backendAddresses(scenario.backends, o.target ? (o.backendPort ?? DEFAULT_BACKEND_PORT) : null));
    labDns = await startLabDns(plan);
    if (o.target) {
      targets = [o.target];
      targetLabel = `${o.target.host}:${o.target.port}`;
    } else {
      let config = bindProxyConfig(o.proxyConfig ?? null, farm.mocks, Object.fromEntries(scenario.backends.map((b) => [b.name, b.weight])));
      // the run's own DNS answers the proxy's lookups (reputation, SPF, DMARC, names)
      config = { ...config, dns: { ...config.dns, servers: [{ host: labDns.host, port: labDns.port }] } };
      perClientLimit = config.connections.perClient;
      // several instances share their limits, as MX hosts on one Redis do
      if (scenario.proxies > 1) {
        shared = await startSharedStore();
        if (shared.url) config = { ...config, store: shared.url };
      }
      for (let i = 0; i < scenario.proxies; i++) {
        const proxy = await Proxy.start(config, { processMetrics: false, store: shared?.store ?? undefined });
        bridge.attach(proxy, i);
        proxies.push(proxy);
      }
      targets = proxies.map((p) => p.address);
      targetLabel = `in-process ${targets.map((t) => `${t.host}:${t.port}`).join(', ')}${shared ? ` sharing limits through ${shared.label}` : ''}`;
    }
  } catch (err) {
    await Promise.all(proxies.map((p) => p.close(500)));
    await shared?.stop();
    await labDns?.stop();
    await farm.stop();
    await recorder.close();
    throw err;
  }

  bus.emit('run.start', {
    scenario: scenario.name,
    description: scenario.description,
    lesson: scenario.lesson,
    seed: plan.seed,
    durationMs: plan.durationMs,
    drainMs: plan.drainMs,
    ...(warmupMs ? { warmupMs } : {}),
    target: targetLabel,
    ...(o.target ? { external: true } : {}),
    ...(perClientLimit !== null ? { proxyLimits: { perClient: perClientLimit } } : {}),
    proxyConfig: o.target ? null : (o.proxyConfigFile ?? null),
    actors: plan.actors.map((a) => ({ name: a.name, kind: a.kind, clients: a.clients.length, planned: planSize(a) })),
    backends: farm.mocks.map((m, i) => ({ name: m.name, address: m.address, capacity: scenario.backends[i].capacity })),
    dns: labDns!.address,
    thresholds: scenario.thresholds.map((t) => t.key),
  });
  // real time, not the run's clock: a workshop holding the run at t = 0 does not hold the setup
  const warmedUp = sleep(new RealClock(), warmupMs, o.signal);
  if (warmupMs) bus.emit('run.phase', { phase: 'warmup' });
  try {
    if (o.target) {
      const asked = performance.now();
      const banner = await awaitBanner(o.target, { signal: o.signal });
      bus.emit('target.ready', { banner, ms: Math.round(performance.now() - asked) });
    }
  } catch (err) {
    await farm.stop();
    await labDns?.stop();
    bus.emit('run.end', { elapsedMs: 0, interrupted: false });
    await recorder.close();
    throw err;
  }
  await warmedUp;
  origin = clock.now();
  bus.emit('run.phase', { phase: 'running' });
  bridge.start(proxies, o.target && o.targetAdmin ? [o.targetAdmin] : []);
  farm.scheduleOutages(clock);
  const markTimers = scenario.marks.filter((m) => m.at <= plan.durationMs).map((m) => clock.setTimeout(() => bus.emit('mark', { title: m.title, predict: m.predict ?? null }), m.at));

  const { interrupted } = await driveActors({
    plan,
    bus,
    clock,
    elapsed,
    targets,
    signal: o.signal,
    // an external target may queue before delivering: wait (still within the drain) for accepted mail to arrive
    settle: o.target
      ? async (deadline, signal) => {
          while (ledger.unreceived() > 0 && clock.now() < deadline && !signal.aborted) await sleep(clock, 100, signal);
        }
      : undefined,
  });
  for (const t of markTimers) clock.clearTimeout(t);
  bridge.stop();
  await Promise.all(proxies.map((p) => p.close(1000)));
  await shared?.stop();
  await labDns?.stop();
  await farm.stop();
  bus.emit('run.end', { elapsedMs: Math.round(elapsed()), interrupted });

  const counted = ledger.result();
  const summary = buildSummary(counted, scenario.thresholds, { target: targetLabel, proxyConfig: o.target ? null : (o.proxyConfigFile ?? null), interrupted });
  const spread = instances.result();
  summary.proxies = spread;
  if (scenario.proxies > 1 && perClientLimit !== null) {
    // the point of sharing limits: no client held more connections in all than one instance allows
    const ok = spread.clientConnectionsMax <= perClientLimit;
    summary.thresholds.push({ metric: 'client_connections_max', rule: `<= ${perClientLimit} (connections.perClient, across ${scenario.proxies} instances)`, value: spread.clientConnectionsMax, ok });
    summary.passed &&= ok;
  }
  writeFileSync(path.join(o.outDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  await recorder.close();
  return { summary, outDir: o.outDir, exitCode: interrupted ? 105 : summary.passed ? 0 : 99, events: recorder.count, ledger: counted };
}


/** `runs/<time>-<scenario>/` */
export function defaultOutDir(scenario: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/\.\d+Z$/, '').replace(/:/g, '-');
  return path.join('runs', `${stamp}-${scenario}`);
}
