// Comparing runs: which direction is better depends on the actor (more delivered
// mail is good for the office, bad for a spammer), ties are no win, and the
// text and files show every run's thresholds side by side.
import { describe, expect, it } from 'vitest';
import { bestOf, compareRuns, formatDiff, formatValue, labelsFor, rankRuns, type CompareRun } from '../../reports/compare/compare.ts';
import { renderCompareHtml, renderCompareMd } from '../../reports/compare/compare-files.ts';
import { formatCompare } from '../../reports/compare/compare-text.ts';
import type { RunSummary } from '../../simulator/summary.ts';
import { summaryFixture } from './report-fixtures.ts';

function withSpammer(accepted: number, officeDelivered: number, p95: number, passed: boolean): RunSummary {
  const s = summaryFixture({ passed });
  s.actors.office.messages.delivered = officeDelivered;
  s.actors.office.latencyMs.p95 = p95;
  s.actors.spammer = { ...structuredClone(s.actors.bots), kind: 'spammer', messages: { attempted: 10, accepted, delivered: accepted, deferred: 10 - accepted, rejected: 0, abandoned: 0, inFlight: 0, lost: 0, duplicates: 0 }, connections: { attempted: 4, refused: 0, greeted: 4 } };
  s.thresholds = [{ metric: 'accepted_ratio{actor:spammer}', rule: '<= 0.2', value: accepted / 10, ok: passed }];
  return s;
}

const runs: CompareRun[] = [
  { label: 'default', source: 'configs/default.yaml', summary: withSpammer(1, 3, 400, true), dir: '1-default' },
  { label: 'open', source: 'configs/open.yaml', summary: withSpammer(10, 3, 40, false), dir: '2-open' },
];
const rows = compareRuns(runs);
const find = (subject: string, metric: string) => rows.find((r) => r.subject === subject && r.metric === metric)!;

describe('compareRuns', () => {
  it("judges each actor by its role: the office wants delivery and speed, a spammer's acceptance should fall", () => {
    expect(find('spammer', 'accepted ratio')).toMatchObject({ better: 'lower', values: [0.1, 1], best: [0] });
    expect(find('spammer', 'delivered')).toMatchObject({ better: 'lower', best: [0] });
    expect(find('office', 'latency p95')).toMatchObject({ better: 'lower', values: [400, 40], best: [1] });
    expect(find('office', 'delivered ratio')).toMatchObject({ better: 'higher', values: [1, 1], best: [] });
    expect(find('bots', 'connections refused ratio')).toMatchObject({ better: 'higher', values: [0.75, 0.75] });
    expect(find('totals', 'thresholds passed')).toMatchObject({ values: [1, 0], best: [0] });
    expect(find('mx1', 'received')).toMatchObject({ better: null, best: [] });
    expect(rows.some((r) => r.subject === 'spammer' && r.metric === 'connections greeted')).toBe(false);
  });

  it('counts a tie as no win, and ignores runs without a value', () => {
    expect(bestOf([1, 1, 1], 'higher')).toEqual([]);
    expect(bestOf([1, 3, 3], 'higher')).toEqual([1, 2]);
    expect(bestOf([null, 2, 5], 'lower')).toEqual([1]);
    expect(bestOf([null, 2], 'lower')).toEqual([]);
    expect(bestOf([1, 2], null)).toEqual([]);
  });

  it('ranks by thresholds passed first, then by the metrics each role is judged by', () => {
    // open wins office latency (40 ms against 400) and every latency percentile, yet the reference passed its thresholds
    const ranks = rankRuns(runs, rows);
    expect(ranks.map((k) => runs[k.run].label)).toEqual(['default', 'open']);
    expect(ranks[0]).toMatchObject({ passed: 1, thresholds: 1, better: ['spammer accepted ratio'] });
    expect(ranks[1]).toMatchObject({ passed: 0, better: ['office latency p95'] });
    // with the thresholds equal, the headline metrics decide, ties shared
    const even: CompareRun[] = runs.map((r) => ({ ...r, summary: { ...r.summary, thresholds: [] } }));
    expect(rankRuns(even, compareRuns(even))[0].run).toBe(0);
  });

  it('shows differences from the first run, ratios in percentage points', () => {
    expect(formatDiff(1, 0.1, 'ratio')).toBe('+90.0pp');
    expect(formatDiff(40, 400, 'ms')).toBe('-360ms');
    expect(formatDiff(3, 3, 'count')).toBe('=');
    expect(formatDiff(null, 3, 'count')).toBe('-');
    expect(formatValue(0.5, 'ratio')).toBe('50.0%');
    expect(labelsFor(['a/default.yaml', 'b/default.yaml', 'open.yml', '127.0.0.1:2525'])).toEqual(['default#1', 'default#2', 'open', '127.0.0.1:2525']);
  });
});

describe('compare output', () => {
  it('prints both runs side by side with their thresholds and the winner per metric', () => {
    const text = formatCompare(runs, rows);
    expect(text).toMatch(/accepted_ratio\{actor:spammer\} <= 0\.2 +✓ 0\.1 +✗ 1/);
    expect(text).toMatch(/✓ passed +✗ failed/);
    expect(text).toMatch(/^ {4}accepted ratio +lower +10\.0% +100\.0% +\+90\.0pp +default$/m);
    expect(text).toMatch(/^ {4}latency p95 +lower +400ms +40ms +-360ms +open$/m);
    expect(text).toMatch(/RANKING .*\n {4}1\. default \(1\/1 thresholds; better on spammer accepted ratio\), 2\. open \(0\/1 thresholds; better on office latency p95\)/);
  });

  it('writes compare.md and a self-contained compare.html linking each run', () => {
    const md = renderCompareMd(runs, rows);
    expect(md).toContain('| default | `configs/default.yaml` | ✓ passed | [report](1-default/report.md) |');
    expect(md).toContain('| spammer | accepted ratio | lower | 10.0% | 100.0% | +90.0pp | default |');
    const html = renderCompareHtml(runs, rows);
    expect(html).not.toMatch(/https?:|<script|<link/i);
    expect(html).toContain('<a href="2-open/report.html">report.html</a>');
    expect(html).toContain('accepted ratio (lower is better)');
    expect((html.match(/<svg /g) ?? []).length).toBeGreaterThanOrEqual(2);
    expect(html).toMatch(/<ol><li><b>default<\/b>: 1\/1 thresholds; better on spammer accepted ratio<\/li><li><b>open<\/b>/);
  });

  it('fits four runs with long names at 1280 px: no bar label past its chart, wide tables scroll', () => {
    const four: CompareRun[] = ['reference-defaults', 'haproxy-stick-table', 'postfix-postscreen', 'haraka-limit-plugin'].map((label, i) => ({
      label,
      source: `127.0.0.1:${2925 + i}`,
      summary: withSpammer(i * 3, 3, 100 + i * 900, i === 0),
      dir: `${i + 1}-${label}`,
    }));
    const html = renderCompareHtml(four, compareRuns(four));
    for (const svg of html.match(/<svg [^]*?<\/svg>/g) ?? []) {
      const width = Number(/viewBox="0 0 (\d+)/.exec(svg)![1]);
      for (const m of svg.matchAll(/<text x="([\d.]+)"[^>]*>([^<]*)<\/text>/g)) {
        if (/text-anchor="(end|middle)"/.test(m[0])) continue;
        const right = Number(m[1]) + m[2].replace(/&[a-z#0-9]+;/g, '_').length * 6.2;
        expect(right, `${m[2]} in a ${width} px chart`).toBeLessThanOrEqual(width);
      }
    }
    // every table sits in a box that scrolls sideways within the page
    expect(html.match(/<table>/g)!.length).toBe(html.match(/<div class="wide"><table>/g)!.length);
    expect(html).toContain('.wide { max-width: 100%; overflow-x: auto; }');
  });
});
