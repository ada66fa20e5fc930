// A sweep's results: for each config of the grid, what the office (the legitimate
// senders) got, delivered share and p95 latency, against what the attackers got
// through; which configs are on the Pareto front (no other config is at least as good
// on all three and better on one); and the best one under the scenario's thresholds.
import type { RunSummary } from '../../simulator/summary.ts';
import { LEGIT_KINDS } from '../model/run-model.ts';

export interface SweepPoint {
  /** 1-based, the grid's order */
  index: number;
  /** KEY -> value as written */
  values: Record<string, string>;
  /** the run's folder, relative to the sweep's */
  dir: string;
  summary: RunSummary;
  /** the legitimate senders' p95 latency together (ms), from the run's ledger */
  officeP95: number | null;
}

export interface SweepRow extends SweepPoint {
  label: string;
  officeDelivered: number | null;
  /** the mean over the attack kinds of what each got through */
  attack: number | null;
  attackByKind: Record<string, number | null>;
  thresholdsPassed: number;
  thresholds: number;
  passed: boolean;
  front: boolean;
  best: boolean;
}

type Actor = RunSummary['actors'][string];

/** What an attack kind counts as getting through: messages accepted, relay tries accepted, smuggled copies, connections greeted. */
export const ATTACK_SHARE: Record<string, { what: string; of: (as: Actor[]) => [number, number] }> = {
  mail: { what: 'messages accepted', of: (as) => [sum(as, (a) => a.messages.accepted), sum(as, (a) => a.messages.attempted)] },
  'relay-prober': { what: 'relay tries accepted', of: (as) => [sum(as, (a) => a.relay?.accepted ?? 0), sum(as, (a) => a.relay?.probes ?? 0)] },
  smuggler: { what: 'smuggled copies', of: (as) => [sum(as, (a) => a.smuggling?.smuggled ?? 0), sum(as, (a) => a.smuggling?.sent ?? 0)] },
  connections: { what: 'connections greeted', of: (as) => [sum(as, (a) => a.connections.greeted), sum(as, (a) => a.connections.attempted)] },
};

const sum = (as: Actor[], f: (a: Actor) => number) => as.reduce((s, a) => s + f(a), 0);
const MAILERS = new Set(['spammer', 'worm', 'spoofer']);

function shareOf(kind: string, actors: Actor[]): number | null {
  const rule = MAILERS.has(kind) ? ATTACK_SHARE.mail : (ATTACK_SHARE[kind] ?? ATTACK_SHARE.connections);
  const [got, tried] = rule.of(actors);
  return tried ? got / tried : null;
}

export function attackByKind(s: RunSummary): Record<string, number | null> {
  const byKind = new Map<string, Actor[]>();
  for (const a of Object.values(s.actors)) if (!LEGIT_KINDS.has(a.kind)) byKind.set(a.kind, [...(byKind.get(a.kind) ?? []), a]);
  return Object.fromEntries([...byKind.entries()].map(([k, as]) => [k, shareOf(k, as)]));
}

function officeDelivered(s: RunSummary): number | null {
  const office = Object.values(s.actors).filter((a) => LEGIT_KINDS.has(a.kind));
  const tried = sum(office, (a) => a.messages.attempted);
  return tried ? sum(office, (a) => a.messages.delivered) / tried : null;
}

/** The objectives, all to minimise: missed office mail, office p95, attack got through. */
function objectives(r: Pick<SweepRow, 'officeDelivered' | 'officeP95' | 'attack'>): [number, number, number] {
  return [1 - (r.officeDelivered ?? 0), r.officeP95 ?? Number.POSITIVE_INFINITY, r.attack ?? 0];
}

export function dominates(a: number[], b: number[]): boolean {
  return a.every((x, i) => x <= b[i]) && a.some((x, i) => x < b[i]);
}

export function sweepRows(points: SweepPoint[]): SweepRow[] {
  const rows: SweepRow[] = points.map((p) => {
    const byKind = attackByKind(p.summary);
    const shares = Object.values(byKind).filter((v): v is number => v !== null);
    return {
      ...p,
      label: Object.entries(p.values).map(([k, v]) => `${k}=${v}`).join(' '),
      officeDelivered: officeDelivered(p.summary),
      attack: shares.length ? shares.reduce((a, b) => a + b, 0) / shares.length : null,
      attackByKind: byKind,
      thresholdsPassed: p.summary.thresholds.filter((t) => t.ok).length,
      thresholds: p.summary.thresholds.length,
      passed: p.summary.passed,
      front: false,
      best: false,
    };
  });
  const objs = rows.map(objectives);
  rows.forEach((r, i) => (r.front = !objs.some((o, j) => j !== i && dominates(o, objs[i]))));
  const best = bestOf(rows);
  if (best) best.best = true;
  return rows;
}

/** Under the thresholds: the least attack, then the most office mail, then the fastest, then the first. */
export function bestOf(rows: SweepRow[]): SweepRow | null {
  const ok = rows.filter((r) => r.passed);
  if (!ok.length) return null;
  return [...ok].sort((a, b) => {
    const [x, y] = [objectives(a), objectives(b)];
    return x[2] - y[2] || x[0] - y[0] || x[1] - y[1] || a.index - b.index;
  })[0];
}

export const pct = (v: number | null) => (v === null ? '-' : `${(Math.round(v * 1000) / 10).toFixed(1)}%`);
export const ms = (v: number | null) => (v === null ? '-' : `${Math.round(v)}ms`);
