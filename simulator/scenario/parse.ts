// Reading a scenario file into a typed, validated Scenario: every problem at once,
// each with its key path (exit 104). Catalogue names resolve to scenarios/NAME.yaml.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidFileError, didYouMean, problemsFromZod, readYaml, type Problem } from '../../proxy/config/problems.ts';
import { loadProxyConfig } from '../../proxy/config/load.ts';
import type { ProxyConfig } from '../../proxy/config/schema.ts';
import { parseThreshold, type Threshold } from '../thresholds.ts';
import { ACTOR_KINDS, actorSchemas, scenarioSchema, type ActorKind, type ActorSpec, type ArrivalSpec, type BackendSpec } from './schema.ts';
import type { z } from 'zod';

type Base = z.output<typeof scenarioSchema>;

export interface Scenario extends Omit<Base, 'actors'> {
  /** absolute path of the file it came from (or `<inline>`) */
  file: string;
  /** the proxy config file, resolved against the scenario's folder */
  proxyFile: string | null;
  actors: ActorSpec[];
  backends: BackendSpec[];
  thresholds: Threshold[];
}

export const CATALOGUE_DIR = fileURLToPath(new URL('../../scenarios/', import.meta.url));

/** Plan-size guard: a typo like `rate: 5000/s` should be a problem, not an out-of-memory. */
const MAX_ARRIVALS_PER_ACTOR = 200_000;
const MAX_HELD_CONNECTIONS = 50_000;
const MAX_DURATION_MS = 3_600_000;

function join(prefix: string, sub: string): string {
  if (!sub) return prefix;
  return sub.startsWith('[') ? prefix + sub : `${prefix}.${sub}`;
}

/** Validates plain data (already read from YAML) as a scenario. */
export function parseScenario(data: unknown, file = '<inline>'): Scenario {
  const problems: Problem[] = [];
  const top = scenarioSchema.safeParse(data, { reportInput: true });
  if (!top.success) problems.push(...problemsFromZod(top.error, scenarioSchema));

  const rawActors = data && typeof data === 'object' && Array.isArray((data as { actors?: unknown }).actors) ? ((data as { actors: unknown[] }).actors) : [];
  const actors: ActorSpec[] = [];
  rawActors.forEach((raw, i) => {
    const at = `actors[${i}]`;
    const kind = raw && typeof raw === 'object' ? (raw as { kind?: unknown }).kind : undefined;
    if (typeof kind !== 'string' || !(ACTOR_KINDS as readonly string[]).includes(kind)) {
      problems.push({ path: `${at}.kind`, message: `expected one of ${ACTOR_KINDS.join(', ')}, got ${JSON.stringify(kind ?? null)}${didYouMean(kind, ACTOR_KINDS)}` });
      return;
    }
    const schema = actorSchemas[kind as ActorKind];
    const result = schema.safeParse(raw, { reportInput: true });
    if (!result.success) {
      for (const p of problemsFromZod(result.error, schema)) problems.push({ path: join(at, p.path), message: p.message });
      return;
    }
    const actor = result.data as ActorSpec;
    if (actor.addresses) {
      // the addresses say how many clients there are; a `clients:` beside them must agree
      const given = (raw as { clients?: unknown }).clients;
      if (given === undefined) actor.clients = actor.addresses.length;
      else if (given !== actor.addresses.length) problems.push({ path: `${at}.clients`, message: `expected ${actor.addresses.length} (the number of addresses) or nothing, got ${JSON.stringify(given)}` });
      const seen = new Set<string>();
      actor.addresses.forEach((a, j) => {
        if (seen.has(a)) problems.push({ path: `${at}.addresses[${j}]`, message: `${a} is listed twice` });
        seen.add(a);
      });
    }
    actors.push(actor);
  });

  // threshold syntax is checked with the rest when something else is already wrong
  // (crossCheck, which checks them otherwise, only runs on an otherwise valid file)
  if (!top.success || problems.length) problems.push(...thresholdSyntaxProblems((data as { expect?: unknown } | null)?.expect));
  if (!top.success) throw new InvalidFileError(file, problems);
  const base = top.data;
  const scenario: Scenario = {
    ...base,
    file,
    proxyFile: base.proxy ? (file.startsWith('<') ? path.resolve(base.proxy) : path.resolve(path.dirname(file), base.proxy)) : null,
    actors,
    thresholds: [],
  };
  if (problems.length === 0) problems.push(...crossCheck(scenario));
  if (problems.length) throw new InvalidFileError(file, problems);
  return scenario;
}

function thresholdSyntaxProblems(expect: unknown): Problem[] {
  if (!expect || typeof expect !== 'object' || Array.isArray(expect)) return [];
  const out: Problem[] = [];
  for (const [key, rules] of Object.entries(expect)) {
    if (typeof rules !== 'string' && !(Array.isArray(rules) && rules.every((r) => typeof r === 'string'))) continue;
    for (const p of parseThreshold(key, typeof rules === 'string' ? [rules] : rules).problems) out.push({ path: `expect.${key}${p.at}`, message: p.message });
  }
  return out;
}

function needsArrivals(kind: ActorKind): boolean {
  return !['flood', 'slowloris'].includes(kind);
}

/** Expected arrivals (for the size guard), or a problem with the arrival spec. */
function checkArrival(actor: { rate?: { count: number; perMs: number }; arrival?: ArrivalSpec }, at: string, windowMs: number, problems: Problem[]): number {
  const a = actor.arrival;
  const spec = typeof a === 'string' || a === undefined ? { type: a ?? 'poisson' } : a;
  const rate = (typeof a === 'object' ? a.rate : undefined) ?? actor.rate;
  switch (spec.type) {
    case 'poisson':
    case 'constant':
      if (!rate) {
        problems.push({ path: `${at}.rate`, message: 'expected a rate like 5/s (or an arrival with stages or bursts)' });
        return 0;
      }
      return (rate.count / rate.perMs) * windowMs;
    case 'ramp': {
      const s = spec as Exclude<ArrivalSpec, string>;
      if (!s.stages) {
        problems.push({ path: `${at}.arrival.stages`, message: 'expected a list of { duration, target } for a ramp' });
        return 0;
      }
      let peak = s.from ? s.from.count / s.from.perMs : 0;
      for (const st of s.stages) peak = Math.max(peak, st.target.count / st.target.perMs);
      return peak * windowMs;
    }
    case 'bursts': {
      const s = spec as Exclude<ArrivalSpec, string>;
      if (!s.every || !s.size) {
        problems.push({ path: `${at}.arrival`, message: 'expected `every` (a duration) and `size` (arrivals per burst) for bursts' });
        return 0;
      }
      if (s.every <= 0) problems.push({ path: `${at}.arrival.every`, message: 'expected a duration > 0' });
      return (windowMs / Math.max(1, s.every) + 1) * s.size;
    }
    case 'histogram': {
      const s = spec as Exclude<ArrivalSpec, string>;
      if (!s.bucket || !s.counts) {
        problems.push({ path: `${at}.arrival`, message: 'expected `bucket` (a duration > 0) and `counts` (arrivals per bucket) for a histogram' });
        return 0;
      }
      return s.counts.reduce((sum, n) => sum + n, 0);
    }
  }
  return 0;
}

function crossCheck(s: Scenario): Problem[] {
  const problems: Problem[] = [];
  if (s.duration <= 0) problems.push({ path: 'duration', message: 'expected a duration > 0' });
  if (s.duration > MAX_DURATION_MS) problems.push({ path: 'duration', message: `expected at most 1h, got ${s.duration}ms` });
  if (s.drain > 120_000) problems.push({ path: 'drain', message: 'expected at most 2m' });
  if (s.warmup !== undefined && s.warmup > 120_000) problems.push({ path: 'warmup', message: 'expected at most 2m' });

  const backendNames = new Set<string>();
  const ports = new Set<string>();
  s.backends.forEach((b, i) => {
    if (backendNames.has(b.name)) problems.push({ path: `backends[${i}].name`, message: `duplicate backend name "${b.name}"` });
    backendNames.add(b.name);
    if (b.listen.port !== 0) {
      const key = `${b.listen.host}:${b.listen.port}`;
      if (ports.has(key)) problems.push({ path: `backends[${i}].listen`, message: `${key} is used by another backend` });
      ports.add(key);
    }
    if (b.tempfail + b.reject > 1) problems.push({ path: `backends[${i}].reject`, message: 'expected tempfail + reject <= 1' });
    b.outages.forEach((o, j) => {
      if (o.to <= o.from) problems.push({ path: `backends[${i}].outages[${j}].to`, message: 'expected `to` after `from`' });
    });
  });

  const actorNames = new Set<string>();
  if (s.actors.length > 240) problems.push({ path: 'actors', message: 'expected at most 240 actors (one 127.x network each)' });
  let held = 0;
  s.actors.forEach((a, i) => {
    const at = `actors[${i}]`;
    if (actorNames.has(a.name)) problems.push({ path: `${at}.name`, message: `duplicate actor name "${a.name}"` });
    actorNames.add(a.name);
    const stop = a.stop ?? s.duration;
    if (a.start >= stop) problems.push({ path: `${at}.start`, message: `expected a start before the actor stops (${stop}ms)` });
    if (a.shares && a.shares.length !== a.clients) problems.push({ path: `${at}.shares`, message: `expected one share per client (${a.clients}), got ${a.shares.length}` });
    if (a.shares && !a.shares.some((n) => n > 0)) problems.push({ path: `${at}.shares`, message: 'expected at least one share > 0' });
    if (a.networks && a.addresses) problems.push({ path: `${at}.networks`, message: 'expected either networks or addresses, not both (addresses say which networks)' });
    if (a.networks && Math.ceil(a.clients / a.networks) > 250) {
      problems.push({ path: `${at}.networks`, message: `expected at least ${Math.ceil(a.clients / 250)} networks for ${a.clients} clients (250 addresses per /24)` });
    }
    if (needsArrivals(a.kind)) {
      const expected = checkArrival(a as { rate?: { count: number; perMs: number }; arrival?: ArrivalSpec }, at, Math.max(0, stop - a.start), problems);
      if (expected > MAX_ARRIVALS_PER_ACTOR) problems.push({ path: `${at}.rate`, message: `about ${Math.round(expected)} arrivals; expected at most ${MAX_ARRIVALS_PER_ACTOR} per actor` });
    } else if (a.kind === 'flood' || a.kind === 'slowloris') {
      held += a.clients * a.connections;
    }
  });
  problems.push(...addressClashes(s.actors));
  s.dns.dnsbl.forEach((z, i) => {
    z.listed.forEach((a, j) => {
      if (!actorNames.has(a)) problems.push({ path: `dns.dnsbl[${i}].listed[${j}]`, message: `no actor named "${a}"` });
    });
  });
  if (held > MAX_HELD_CONNECTIONS) problems.push({ path: 'actors', message: `flood and slowloris actors would hold ${held} connections; expected at most ${MAX_HELD_CONNECTIONS}` });

  s.marks.forEach((m, i) => {
    if (m.at > s.duration) problems.push({ path: `marks[${i}].at`, message: 'expected a time within the duration' });
  });

  for (const [key, rules] of Object.entries(s.expect)) {
    const { threshold, problems: tp } = parseThreshold(key, rules);
    for (const p of tp) problems.push({ path: `expect.${key}${p.at}`, message: p.message });
    if (!threshold) continue;
    const { actor, kind, backend } = threshold.tags;
    if (actor && !actorNames.has(actor)) problems.push({ path: `expect.${key}`, message: `no actor named "${actor}"` });
    if (kind && !(ACTOR_KINDS as readonly string[]).includes(kind)) problems.push({ path: `expect.${key}`, message: `expected a kind of ${ACTOR_KINDS.join(', ')}` });
    if (backend && !backendNames.has(backend)) problems.push({ path: `expect.${key}`, message: `no backend named "${backend}"` });
    s.thresholds.push(threshold);
  }
  return problems;
}

/** An actor's own `addresses` may not fall in 127.<10+i>.0.0/16, where actor i without any makes up its clients. */
function addressClashes(actors: ActorSpec[]): Problem[] {
  const generated = new Map<number, string>();
  actors.forEach((a, i) => {
    if (!a.addresses) generated.set(10 + i, a.name);
  });
  const problems: Problem[] = [];
  actors.forEach((a, i) => {
    a.addresses?.forEach((address, j) => {
      const owner = generated.get(Number(address.split('.')[1]));
      if (owner) problems.push({ path: `actors[${i}].addresses[${j}]`, message: `${address} is in 127.${address.split('.')[1]}.0.0/16, where actor "${owner}" makes up its clients' addresses` });
    });
  });
  return problems;
}

/** A path, or a catalogue name (`baseline` -> scenarios/baseline.yaml). */
export function resolveScenario(nameOrPath: string): string {
  if (existsSync(nameOrPath)) return path.resolve(nameOrPath);
  if (/^[A-Za-z0-9_-]+$/.test(nameOrPath)) {
    const inCatalogue = path.join(CATALOGUE_DIR, `${nameOrPath}.yaml`);
    if (existsSync(inCatalogue)) return inCatalogue;
  }
  throw new InvalidFileError(nameOrPath, [{ path: '', message: `no such file, and no catalogue scenario of that name (try \`attitude scenarios\`)` }]);
}

export function loadScenario(nameOrPath: string): Scenario {
  const file = resolveScenario(nameOrPath);
  return parseScenario(readYaml(file), file);
}

export function catalogueNames(): string[] {
  if (!existsSync(CATALOGUE_DIR)) return [];
  return readdirSync(CATALOGUE_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

/**
 * The proxy config a run uses, with its servers bound to the scenario's mock
 * backends: a server without address takes the backend of its name; no servers
 * at all means every backend.
 */
export function checkProxyBinding(config: ProxyConfig, scenario: Scenario, file: string): void {
  const names = new Set(scenario.backends.map((b) => b.name));
  const problems: Problem[] = [];
  config.backends.servers.forEach((server, i) => {
    if (!server.address && !names.has(server.name)) {
      problems.push({ path: `backends.servers[${i}]`, message: `no address, and the scenario has no backend named "${server.name}" (it has ${[...names].join(', ')})` });
    }
  });
  if (problems.length) throw new InvalidFileError(file, problems);
}

/** `attitude validate` for a scenario: the scenario, then the proxy config it names. */
export function validateScenarioFile(file: string): void {
  const scenario = parseScenario(readYaml(file), path.resolve(file));
  if (scenario.proxyFile) {
    const config = loadProxyConfig(scenario.proxyFile, { use: 'run' });
    checkProxyBinding(config, scenario, scenario.proxyFile);
  }
}
