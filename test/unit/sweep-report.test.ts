// The sweep's model and files from made-up runs: what the office got against what the
// attack got through, the Pareto front, the best config under the thresholds, and the
// files (sweep.md, a self-contained sweep.html with the charts, sweep.json).
import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../simulator/summary.ts';
import { attackByKind, bestOf, dominates, sweepRows, type SweepPoint } from '../../reports/sweep/sweep.ts';
import { renderSweepHtml, renderSweepMd, sweepJson, type SweepContext } from '../../reports/sweep/sweep-files.ts';
import { scatterSvg } from '../../reports/sweep/pareto-svg.ts';

type Actor = RunSummary['actors'][string];

function actor(kind: string, over: { attempted?: number; accepted?: number; delivered?: number; connections?: [number, number]; relay?: [number, number] }): Actor {
  const attempted = over.attempted ?? 0;
  return {
    kind,
    clients: 1,
    messages: { attempted, accepted: over.accepted ?? 0, delivered: over.delivered ?? 0, deferred: 0, rejected: 0, abandoned: 0, lost: 0, duplicates: 0 },
    connections: { attempted: over.connections?.[0] ?? 0, refused: 0, greeted: over.connections?.[1] ?? 0 },
    latencyMs: { p50: null, p95: null, p99: null },
    bytesDelivered: 0,
    refusals: {},
    ...(over.relay ? { relay: { probes: over.relay[0], accepted: over.relay[1], acceptedTricks: [] } } : {}),
  } as Actor;
}

function summary(passed: boolean, officeDelivered: number, spamAccepted: number, floodGreeted: number): RunSummary {
  return {
    scenario: 'made-up',
    seed: 1,
    durationMs: 5000,
    elapsedMs: 6000,
    target: 'in-process',
    proxyConfig: null,
    interrupted: false,
    actors: {
      'legit-1': actor('legit', { attempted: 10, accepted: officeDelivered, delivered: officeDelivered }),
      'legit-2': actor('legit', { attempted: 10, accepted: 10, delivered: 10 }),
      spammer: actor('spammer', { attempted: 20, accepted: spamAccepted, delivered: spamAccepted }),
      flood: actor('flood', { connections: [40, floodGreeted] }),
      probe: actor('relay-prober', { relay: [8, 0] }),
    },
    backends: {},
    ledger: { acceptedByProxy: 0, receivedByBackends: 0, lost: 0, duplicates: 0, unconfirmedRedeliveries: 0, unconfirmed: 0, foreign: 0 },
    thresholds: [{ metric: 'delivered_ratio{kind:legit}', rule: '>= 0.9', value: (officeDelivered + 10) / 20, ok: passed }],
    passed,
  } as RunSummary;
}

const point = (index: number, perClient: string, s: RunSummary, p95: number | null): SweepPoint => ({ index, values: { 'connections.perClient': perClient }, dir: `${index}-perClient=${perClient}`, summary: s, officeP95: p95 });

const points = [
  point(1, '1', summary(false, 4, 0, 2), 30), // stops everything, the office too
  point(2, '2', summary(true, 10, 2, 4), 25), // the best that passes
  point(3, '5', summary(true, 10, 6, 10), 20), // faster, lets more through: also on the front
  point(4, '10', summary(true, 10, 6, 20), 20), // dominated by #3
];
const rows = sweepRows(points);
const ctx: SweepContext = { scenario: 'made-up', seed: 1, durationMs: 5000, base: 'base.yaml', keys: ['connections.perClient'], interrupted: false, planned: 4, bestFile: 'best.yaml' };

describe('the sweep model', () => {
  it("sets the office's delivered share against each attack kind's share got through", () => {
    expect(rows[1].officeDelivered).toBe(1);
    expect(rows[0].officeDelivered).toBe(0.7);
    expect(attackByKind(points[1].summary)).toEqual({ spammer: 0.1, flood: 0.1, 'relay-prober': 0 });
    // the mean over the kinds
    expect(rows[1].attack).toBeCloseTo(0.2 / 3, 6);
  });

  it('finds the Pareto front and the best config under the thresholds', () => {
    expect(rows.map((r) => r.front)).toEqual([true, true, true, false]);
    expect(rows.map((r) => r.best)).toEqual([false, true, false, false]);
    expect(dominates([0, 20, 0.1], [0, 20, 0.2])).toBe(true);
    expect(dominates([0, 20, 0.1], [0, 20, 0.1])).toBe(false);
    // nothing passed: no best
    expect(bestOf(sweepRows([point(1, '1', summary(false, 4, 0, 2), 30)]))).toBeNull();
  });
});

describe('the sweep files', () => {
  it('sweep.md: the best config, the grid with the front marked, each attack, the failures', () => {
    const md = renderSweepMd(rows, ctx);
    expect(md).toContain('#2 connections.perClient=2: the office delivered 100.0% with p95 25ms, the attack got 6.7% through. Written to best.yaml.');
    expect(md).toContain('| 2 | `2` | ✓ 1/1 | 100.0% | 25ms | 6.7% | ◆ ★ best | [report](2-perClient=2/report.md) |');
    expect(md).toContain('| 4 | `10` | ✓ 1/1 | 100.0% | 20ms | 26.7% |  | [report](4-perClient=10/report.md) |');
    expect(md).toContain('| # | spammer | flood | relay-prober |');
    expect(md).toContain('- #1: delivered_ratio{kind:legit} >= 0.9 (0.7)');
  });

  it('sweep.html: self-contained, two charts with a point per config, the best ringed', () => {
    const html = renderSweepHtml(rows, ctx);
    expect(html).not.toMatch(/<script|https?:\/\/|NaN|undefined/);
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html.match(/<\/svg>/g)).toHaveLength(2);
    expect(html.match(/#2 \(best\)/g)).toHaveLength(2);
    expect(html).toContain('report.html');
  });

  it('sweep.json: the configs and the best one, for scripts', () => {
    const json = JSON.parse(sweepJson(rows, ctx));
    expect(json.best).toBe(2);
    expect(json.configs[2]).toMatchObject({ index: 3, values: { 'connections.perClient': '5' }, passed: true, front: true, officeP95: 20 });
  });

  it('draws a chart without points', () => {
    expect(scatterSvg([], { x: { title: 'x', unit: '%' }, y: { title: 'y', unit: '%' } })).toContain('no finished run');
  });
});
