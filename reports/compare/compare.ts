// Side by side: the same scenario with the same seed under several proxy configs
// (or targets). Per metric and per actor, each run's value, the difference from
// the first run, and which did better, where "better" depends on who the actor
// is: more delivered mail is good for the office and bad for a spammer.
import type { RunSummary } from '../../simulator/summary.ts';
import { LEGIT_KINDS } from '../model/run-model.ts';

export interface CompareRun {
  /** short and unique: the config's file name, or the target */
  label: string;
  /** the config file or target, in full */
  source: string;
  summary: RunSummary;
  /** the run's own folder, relative to the comparison's */
  dir: string;
}

export type Better = 'higher' | 'lower' | null;
export type Unit = 'ratio' | 'ms' | 'count';

export interface CompareRow {
  /** 'totals', or the actor or backend the metric is about */
  subject: string;
  kind: string;
  metric: string;
  unit: Unit;
  better: Better;
  values: Array<number | null>;
  /** the runs that did best (empty when all equal or there is no better) */
  best: number[];
  /** what this actor's role is judged by (the ranking counts these only) */
  headline: boolean;
}

type Actor = RunSummary['actors'][string];
interface MetricDef {
  metric: string;
  unit: Unit;
  better: Better;
  value: (a: Actor) => number | null;
  /** only for actors this applies to */
  when?: (a: Actor) => boolean;
  /** what the role is judged by in the ranking: one or two per role, so a run cannot win on three latency percentiles */
  headline?: true;
}

const ratio = (n: number, d: number) => (d ? n / d : null);
const sends = (a: Actor) => a.messages.attempted > 0;
/** the attackers whose weapon is the connection itself */
const holds = (a: Actor) => ['flood', 'slowloris', 'early-talker'].includes(a.kind) && a.connections.attempted > 0;

/** What the office wants more of. */
const LEGIT: MetricDef[] = [
  { metric: 'delivered ratio', unit: 'ratio', better: 'higher', value: (a) => ratio(a.messages.delivered, a.messages.attempted), when: sends, headline: true },
  { metric: 'delivered', unit: 'count', better: 'higher', value: (a) => a.messages.delivered },
  { metric: 'deferred', unit: 'count', better: 'lower', value: (a) => a.messages.deferred },
  { metric: 'rejected', unit: 'count', better: 'lower', value: (a) => a.messages.rejected },
  { metric: 'abandoned', unit: 'count', better: 'lower', value: (a) => a.messages.abandoned },
  { metric: 'lost', unit: 'count', better: 'lower', value: (a) => a.messages.lost },
  { metric: 'latency p50', unit: 'ms', better: 'lower', value: (a) => a.latencyMs.p50 },
  { metric: 'latency p95', unit: 'ms', better: 'lower', value: (a) => a.latencyMs.p95, headline: true },
  { metric: 'latency p99', unit: 'ms', better: 'lower', value: (a) => a.latencyMs.p99 },
  { metric: 'connections refused', unit: 'count', better: 'lower', value: (a) => a.connections.refused },
];

/** What a defense wants less of. */
const ATTACK: MetricDef[] = [
  { metric: 'accepted ratio', unit: 'ratio', better: 'lower', value: (a) => ratio(a.messages.accepted, a.messages.attempted), when: sends, headline: true },
  { metric: 'delivered', unit: 'count', better: 'lower', value: (a) => a.messages.delivered, when: sends },
  { metric: 'delivered bytes', unit: 'count', better: 'lower', value: (a) => a.bytesDelivered, when: sends },
  { metric: 'connections refused ratio', unit: 'ratio', better: 'higher', value: (a) => ratio(a.connections.refused, a.connections.attempted), when: holds, headline: true },
  { metric: 'connections greeted', unit: 'count', better: 'lower', value: (a) => a.connections.greeted, when: holds },
  { metric: 'relay tricks accepted', unit: 'count', better: 'lower', value: (a) => a.relay?.accepted ?? null, when: (a) => !!a.relay, headline: true },
  { metric: 'smuggled to a backend', unit: 'count', better: 'lower', value: (a) => a.smuggling?.smuggled ?? null, when: (a) => !!a.smuggling, headline: true },
  { metric: 'early talkers greeted', unit: 'count', better: 'lower', value: (a) => a.early?.greeted ?? null, when: (a) => !!a.early, headline: true },
];

export function bestOf(values: Array<number | null>, better: Better): number[] {
  if (!better) return [];
  const present = values.map((v, i) => [v, i] as const).filter((p): p is readonly [number, number] => p[0] !== null);
  if (present.length < 2) return [];
  const target = better === 'higher' ? Math.max(...present.map((p) => p[0])) : Math.min(...present.map((p) => p[0]));
  const winners = present.filter((p) => p[0] === target).map((p) => p[1]);
  return winners.length === present.length ? [] : winners;
}

function row(subject: string, kind: string, metric: string, unit: Unit, better: Better, values: Array<number | null>, headline = false): CompareRow {
  return { subject, kind, metric, unit, better, values, best: bestOf(values, better), headline };
}

export function compareRuns(runs: CompareRun[]): CompareRow[] {
  const rows: CompareRow[] = [];
  const all = runs.map((r) => r.summary);
  rows.push(row('totals', '', 'thresholds passed', 'count', 'higher', all.map((s) => s.thresholds.filter((t) => t.ok).length)));
  rows.push(row('totals', '', 'lost', 'count', 'lower', all.map((s) => s.ledger.lost), true));
  rows.push(row('totals', '', 'duplicates', 'count', 'lower', all.map((s) => s.ledger.duplicates), true));
  rows.push(row('totals', '', 'unconfirmed (received, never told 250)', 'count', 'lower', all.map((s) => s.ledger.unconfirmed)));

  const actors = [...new Set(all.flatMap((s) => Object.keys(s.actors)))];
  for (const name of actors) {
    const per = all.map((s) => s.actors[name]);
    const kind = per.find(Boolean)?.kind ?? '?';
    const defs = LEGIT_KINDS.has(kind) ? LEGIT : ATTACK;
    for (const d of defs) {
      if (d.when && !per.some((a) => a && d.when!(a))) continue;
      rows.push(row(name, kind, d.metric, d.unit, d.better, per.map((a) => (a ? d.value(a) : null)), !!d.headline));
    }
  }

  const backends = [...new Set(all.flatMap((s) => Object.keys(s.backends)))];
  for (const name of backends) {
    // how the load spread is a fact to look at, not a score
    rows.push(row(name, 'backend', 'received', 'count', null, all.map((s) => s.backends[name]?.received ?? null)));
    rows.push(row(name, 'backend', 'peak sessions', 'count', null, all.map((s) => s.backends[name]?.peakConnections ?? null)));
  }
  return rows;
}

export interface Rank {
  /** the run's index in the comparison */
  run: number;
  passed: number;
  thresholds: number;
  /** the headline metrics it did best on (ties shared), as `office delivered ratio` */
  better: string[];
}

/**
 * The verdict: thresholds passed first (a run that keeps its promises wins), then the
 * metrics each actor's role is judged by, ties shared. Counting every row instead
 * would let the open door win on three latency percentiles of an unloaded office.
 */
export function rankRuns(runs: CompareRun[], rows: CompareRow[]): Rank[] {
  const ranks = runs.map((r, run): Rank => ({ run, passed: r.summary.thresholds.filter((t) => t.ok).length, thresholds: r.summary.thresholds.length, better: [] }));
  for (const r of rows) if (r.headline) for (const i of r.best) ranks[i].better.push(r.subject === 'totals' ? r.metric : `${r.subject} ${r.metric}`);
  return [...ranks].sort((a, b) => b.passed - a.passed || b.better.length - a.better.length || a.run - b.run);
}

/** `1. default (4/4 thresholds; better on spammer accepted ratio), 2. open (1/4 thresholds)` */
export function rankingText(runs: CompareRun[], ranks: Rank[]): string {
  return ranks.map((k, i) => `${i + 1}. ${runs[k.run].label} (${k.passed}/${k.thresholds} thresholds${k.better.length ? `; better on ${k.better.join(', ')}` : ''})`).join(', ');
}

export function formatValue(v: number | null, unit: Unit): string {
  if (v === null) return '-';
  if (unit === 'ratio') return `${(v * 100).toFixed(1)}%`;
  if (unit === 'ms') return `${Math.round(v)}ms`;
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

/** The difference from the first run: percentage points for ratios. */
export function formatDiff(v: number | null, base: number | null, unit: Unit): string {
  if (v === null || base === null) return '-';
  const d = v - base;
  if (d === 0) return '=';
  const sign = d > 0 ? '+' : '-';
  const abs = Math.abs(d);
  if (unit === 'ratio') return `${sign}${(abs * 100).toFixed(1)}pp`;
  if (unit === 'ms') return `${sign}${Math.round(abs)}ms`;
  return `${sign}${Number.isInteger(abs) ? abs : abs.toFixed(2)}`;
}

/** Unique short labels: file names without extension, made unique with a number. */
export function labelsFor(sources: string[]): string[] {
  const base = sources.map((s) => s.split(/[\\/]/).pop()!.replace(/\.ya?ml$/i, '') || s);
  return base.map((b, i) => (base.filter((x) => x === b).length > 1 ? `${b}#${i + 1}` : b));
}
