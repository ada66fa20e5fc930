// A scenario from a mail log: the clients classified, mapped into 127/8 per network,
// grouped into actors that replay the log's timeline in the run's duration; the log's
// relays as mock backends; a lesson saying what was imported; thresholds "no worse than
// it was" (the legitimate senders' delivery ratio as it was, no more attack let through
// than the real server let through); and the proxy config as it was beside it.
import { formatDuration } from '../../proxy/config/units.ts';
import { mapAddresses, networkOf, UnreplayableLog } from './addresses.ts';
import { buildActors, KIND_OF, type ImportedActor, type Replayed } from './actors.ts';
import { asItWas } from './as-it-was.ts';
import { classify, type ClientClass } from './classify.ts';
import { ATTEMPTS, arrivalsOf, countsOfLog, type Counts } from './counts.ts';
import { formatStamp } from './log-time.ts';
import type { Observation } from './observed.ts';
import { formatSpeedup, timeline, toRun, type Timeline } from './timeline.ts';
import type { ActorKind } from '../scenario/schema.ts';

/** The lab's blocklist zone (the catalogue's default config asks it too). */
export const LAB_DNSBL = 'bl.attitude.test';

export interface ImportOptions {
  /** the scenario's name */
  name: string;
  /** the log's file name, for the lesson */
  source: string;
  /** the run's duration; default the log's span, at most a minute */
  durationMs?: number | null;
  /** the proxy config file the scenario names, relative to the scenario */
  proxyFile: string;
  /** the scenario file's name, for the commands the lesson suggests */
  scenarioFile: string;
}

export interface MapRow {
  real: string;
  mapped: string;
  network: string;
  class: ClientClass;
  actor: string;
  because: string;
}

export interface Imported {
  scenario: Record<string, unknown>;
  proxyKeys: ReturnType<typeof asItWas>;
  counts: Counts;
  tl: Timeline;
  actors: ImportedActor[];
  map: MapRow[];
  /** addresses that only connected and left */
  idle: number;
  /** when the log starts and ends, as it wrote it */
  from: string;
  to: string;
  /** `--vary` options worth sweeping for what the log shows */
  vary: string[];
}

const ceil2 = (v: number) => Math.min(1, Math.ceil(v * 100 - 1e-9) / 100);
const floor2 = (v: number) => Math.max(0, Math.floor(v * 100 + 1e-9) / 100);
const pct = (n: number, d: number) => (d ? `${Math.round((n / d) * 1000) / 10} %` : '-');
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function buildImport(o: Observation, opts: ImportOptions): Imported {
  const all = classify(o);
  const idle = all.filter((r) => r.class === 'idle').length;
  const kept = all.filter((r) => r.class !== 'idle');
  if (!kept.length) throw new UnreplayableLog('nothing to replay: no client of the log sent mail or was refused');
  const map = mapAddresses(kept.map((r) => r.address));
  const replayed: Replayed[] = kept.map((r) => ({ ...r, class: r.class as Replayed['class'], kind: KIND_OF[r.class as Replayed['class']], mapped: map.address.get(r.address)! }));

  const domains = servedDomains(o);
  const moments = replayed.flatMap((r) => [...arrivalsOf(r, r.kind), ...(r.kind === 'flood' || r.kind === 'slowloris' ? r.connections : [])]);
  const tl = timeline(Math.min(...moments), Math.max(...moments), o.resolutionMs, opts.durationMs ?? null);
  const actors = buildActors(replayed, { tl, domains });
  const counts = countsOfLog(replayed);
  const listed = actors.filter((a) => a.cls === 'dnsbl-spammer').map((a) => a.spec.name as string);
  const from = formatStamp(tl.origin, o.offsetMs);
  const to = formatStamp(tl.origin + tl.spanMs - o.resolutionMs, o.offsetMs);

  const proxyKeys = asItWas({
    records: replayed,
    hints: o.hints,
    tl,
    domains,
    format: o.format === 'postfix' ? 'Postfix' : 'Haraka',
    dnsblZone: listed.length ? LAB_DNSBL : null,
    earlyTalkersRefused: replayed.some((r) => r.kind === 'early-talker' && (r.refusedConnections.pregreet ?? 0) > 0),
  });
  const vary = suggestVary(counts, proxyKeys);
  const scenario: Record<string, unknown> = {
    name: opts.name,
    description: `imported from ${opts.source}: ${plural(replayed.length, 'address', 'addresses')}, ${Object.keys(counts).join(', ')}`,
    lesson: lesson(o, opts, tl, replayed, counts, from, to, idle, vary),
    seed: 1,
    duration: formatDuration(tl.durationMs),
    drain: '10s',
    proxy: opts.proxyFile,
    backends: backendsOf(o),
    actors: actors.map((a) => a.spec),
    ...(listed.length ? { dns: { dnsbl: [{ zone: LAB_DNSBL, listed, answer: '127.0.0.2' }] } } : {}),
    marks: marksOf(actors, tl),
    expect: thresholds(replayed, counts),
  };
  const actorOf = new Map(actors.flatMap((a) => a.clients.map((c) => [c.address, a.spec.name as string] as const)));
  const rows: MapRow[] = [
    ...replayed.map((r) => ({ real: r.address, mapped: r.mapped, network: map.network.get(networkOf(r.address))!, class: r.class as ClientClass, actor: actorOf.get(r.address)!, because: r.because })),
    ...all.filter((r) => r.class === 'idle').map((r) => ({ real: r.address, mapped: '', network: '', class: 'idle' as const, actor: '', because: r.because })),
  ];
  return { scenario, proxyKeys, counts, tl, actors, map: rows, idle, from, to, vary };
}

/** The recipient domains of the delivered mail, most used first (at most ten). */
function servedDomains(o: Observation): string[] {
  const n = new Map<string, number>();
  for (const m of o.messages) for (const d of m.domains) n.set(d, (n.get(d) ?? 0) + 1);
  const top = [...n.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 10).map(([d]) => d);
  return top.length ? top : ['example.test'];
}

function backendsOf(o: Observation): Array<Record<string, unknown>> {
  const relays = o.relays.filter((r) => r.sent + r.deferred + r.bounced > 0).sort((a, b) => b.sent - a.sent || a.relay.localeCompare(b.relay));
  if (!relays.length) return [{ name: 'mx1', latency: '2ms..10ms' }];
  const total = relays.reduce((s, r) => s + r.sent + r.deferred + r.bounced, 0);
  const names = new Set<string>();
  return relays.map((r, i) => {
    const tries = r.sent + r.deferred + r.bounced;
    let name = /^[A-Za-z][A-Za-z0-9.-]*$/.test(r.host) && !/^\d/.test(r.host) ? r.host : `relay${i + 1}`;
    while (names.has(name)) name = `${name}-${i + 1}`;
    names.add(name);
    const ms = r.transmit.map((s) => Math.round(s * 1000)).sort((a, b) => a - b);
    const q = (p: number) => Math.max(1, Math.min(5000, ms[Math.floor((ms.length - 1) * p)] ?? 1));
    const latency = ms.length ? (q(0.1) === q(0.9) ? `${q(0.5)}ms` : `${q(0.1)}ms..${q(0.9)}ms`) : '2ms..10ms';
    return {
      name,
      latency,
      weight: Math.max(1, Math.round((tries / total) * 100)),
      ...(r.deferred ? { tempfail: Math.round((r.deferred / tries) * 1000) / 1000 } : {}),
      ...(r.bounced ? { reject: Math.round((r.bounced / tries) * 1000) / 1000 } : {}),
    };
  });
}

function marksOf(actors: ImportedActor[], tl: Timeline): Array<Record<string, unknown>> {
  const starts = new Map<string, number>();
  for (const a of actors) {
    if (a.cls === 'legit') continue;
    const first = Math.min(...a.clients.flatMap((c) => [...arrivalsOf(c, c.kind), ...c.connections]));
    starts.set(a.cls, Math.min(starts.get(a.cls) ?? Infinity, toRun(tl, first)));
  }
  // classes that start together share one mark
  const at = new Map<number, string[]>();
  for (const [cls, t] of starts) at.set(t, [...(at.get(t) ?? []), cls]);
  return [...at.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([t, classes]) => ({ at: formatDuration(t), title: `the ${listed(classes)} traffic of the log starts`, predict: 'what does it cost the legitimate senders?' }));
}

function listed(items: string[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

function thresholds(records: Replayed[], counts: Counts): Record<string, string[]> {
  const expect: Record<string, string[]> = {};
  const legit = counts.legit;
  if (legit) {
    expect['delivered_ratio{kind:legit}'] = [`>= ${floor2(legit.attempts ? legit.delivered / legit.attempts : 1)}`];
    // the delays of mail that went straight through: a real queue's retries of a deferred message are its own schedule, not the proxy's
    const delays = records.filter((r) => r.kind === 'legit').flatMap((r) => r.messages.filter((m) => m.deferred === 0).flatMap((m) => m.delays)).sort((a, b) => a - b);
    const p95 = delays.length ? delays[Math.ceil(delays.length * 0.95) - 1] * 1000 : 0;
    expect['latency{kind:legit}'] = [`p(95) < ${Math.max(2000, Math.ceil((2 * p95) / 100) * 100)}`];
  }
  for (const kind of ['spammer', 'worm'] as const) {
    const c = counts[kind];
    if (c?.attempts) expect[`accepted_ratio{kind:${kind}}`] = [`<= ${ceil2(c.accepted / c.attempts)}`];
  }
  for (const kind of ['flood', 'slowloris', 'early-talker'] as const) {
    const c = counts[kind];
    if (c?.connections) expect[`connections_greeted_ratio{kind:${kind}}`] = [`<= ${ceil2(c.accepted / c.connections)}`];
  }
  if (counts['relay-prober']) expect['relay_accepted{kind:relay-prober}'] = [`<= ${counts['relay-prober'].accepted}`];
  if (counts.smuggler) expect['smuggled{kind:smuggler}'] = ['== 0'];
  expect.lost = ['== 0'];
  return expect;
}

/** Around the value as it was: the limits that act on the kinds of attack the log shows. */
export function suggestVary(counts: Counts, keys: ReturnType<typeof asItWas>): string[] {
  const was = (a: string, b: string) => keys.find((k) => k.path[0] === a && k.path[1] === b)?.value;
  const out: string[] = [];
  if (counts.flood || counts.slowloris) {
    const n = Number(was('connections', 'perClient') ?? 10);
    out.push(`connections.perClient=${[...new Set([Math.max(1, Math.floor(n / 2)), n, n * 2])].join(',')}`);
  }
  if (counts.spammer || counts.worm) {
    const m = /^([\d.]+)\/(.+)$/.exec(String(was('messages', 'rate') ?? '100/1m'));
    const [count, per] = m ? [Number(m[1]), m[2]] : [100, '1m'];
    const r = (x: number) => `${x >= 10 ? Math.round(x) : Math.round(x * 10) / 10}/${per}`;
    out.push(`messages.rate=${[...new Set([r(count / 4), r(count), r(count * 4)])].join(',')}`);
  }
  if (counts['early-talker'] && !out.length) out.push('connections.greetPause=0s,300ms,1s');
  if (!out.length) out.push('connections.perClient=2,5,10');
  return out;
}

function lesson(o: Observation, opts: ImportOptions, tl: Timeline, records: Replayed[], counts: Counts, from: string, to: string, idle: number, vary: string[]): string {
  const speed = tl.speedup;
  const out: string[] = [];
  out.push(
    `Imported from ${opts.source} (${o.format === 'postfix' ? 'Postfix' : 'Haraka'}): ${from} to ${to}, ${formatDuration(Math.round(tl.spanMs / 1000) * 1000 || tl.spanMs)} of traffic replayed in ${formatDuration(tl.durationMs)}` +
      (Math.abs(speed - 1) < 0.05 ? ' (in real time).' : ` (${formatSpeedup(speed)} faster: every rate of the run is ${formatSpeedup(speed)} the log's, so a limit of 60/1m here stands for 60 per ${formatDuration(Math.round(60_000 * speed))} on the real server).`),
  );
  out.push('');
  out.push('What happened, per kind of client:');
  for (const [kind, c] of Object.entries(counts) as Array<[ActorKind, NonNullable<Counts[ActorKind]>]>) {
    const nets = new Set(records.filter((r) => r.kind === kind).map((r) => networkOf(r.address))).size;
    const refusals = new Map<string, number>();
    for (const r of records.filter((x) => x.kind === kind)) for (const [k, n] of Object.entries(r.refusals)) refusals.set(k, (refusals.get(k) ?? 0) + (n ?? 0));
    const why = [...refusals.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
    const got = kind === 'legit' || kind === 'spammer' || kind === 'worm' ? `${c.accepted} accepted, ${c.delivered} delivered (${pct(c.delivered, c.attempts)})` : kind === 'relay-prober' ? `${c.accepted} relayed` : `${c.accepted} greeted`;
    out.push(`- ${kind}: ${plural(c.addresses, 'address', 'addresses')} in ${plural(nets, 'network')}, ${c.attempts} ${ATTEMPTS[kind]}, ${got}; ${c.refusedConnections} connections refused${why ? `; refusals: ${why}` : ''}.`);
  }
  if (idle) out.push(`- not replayed: ${plural(idle, 'address', 'addresses')} that only connected.`);
  out.push('');
  out.push(
    'Addresses are mapped into 127.0.0.0/8 one /24 per real network, so per-network limits meet the same groups. ' +
      `The proxy config beside this file (${opts.proxyFile}) holds the limits the log shows its server enforcing. ` +
      'The thresholds say "no worse than it was": the legitimate senders delivered as they did, and no attack got through more than it did. ' +
      `To find limits that stop more of it without delaying the legitimate mail: attitude sweep ${opts.scenarioFile} ${vary.map((v) => `--vary ${v}`).join(' ')}`,
  );
  return out.join('\n') + '\n';
}
