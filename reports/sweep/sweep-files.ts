// sweep.md, sweep.html and sweep.json: the grid's configs side by side (the office's
// delivered share and p95 against what the attack got through), the Pareto front as
// charts, the best config, and each run's own report linked from its folder.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { mdTable } from '../files/report-md.ts';
import { figure, page, table, type Cell } from '../files/html-page.ts';
import { escapeHtml } from '../files/svg.ts';
import { scatterSvg, type ScatterPoint } from './pareto-svg.ts';
import { ATTACK_SHARE, ms, pct, type SweepRow } from './sweep.ts';

export interface SweepContext {
  scenario: string;
  seed: number;
  durationMs: number;
  /** the base config, or null for the built-in defaults */
  base: string | null;
  keys: string[];
  interrupted: boolean;
  /** the grid's size (more than the rows when interrupted) */
  planned: number;
  /** best.yaml, when one was written */
  bestFile: string | null;
}

const FRONT_NOTE = 'On the Pareto front (◆): no other config delivered as much of the office\'s mail, as fast, while letting less of the attack through.';
const ATTACK_NOTE = `Attack through: the mean over the attack kinds of the share each got through (${Object.values(ATTACK_SHARE).map((a) => a.what).join(', ')}).`;

const marks = (r: SweepRow) => `${r.front ? '◆' : ''}${r.best ? ' ★ best' : ''}`.trim();
const verdict = (r: SweepRow) => `${r.passed ? '✓' : '✗'} ${r.thresholdsPassed}/${r.thresholds}`;
const kindsOf = (rows: SweepRow[]) => [...new Set(rows.flatMap((r) => Object.keys(r.attackByKind)))];

function intro(ctx: SweepContext, rows: SweepRow[]): string {
  const done = ctx.interrupted ? ` Interrupted: ${rows.length} of ${ctx.planned} configs ran.` : '';
  return `Seed ${ctx.seed}, each run ${ctx.durationMs / 1000}s: the same traffic under each config of the grid (${ctx.base ?? 'the built-in defaults'} with ${ctx.keys.join(' x ')}).${done}`;
}

function bestLine(rows: SweepRow[], ctx: SweepContext): string {
  const b = rows.find((r) => r.best);
  if (!b) return 'No config passed every threshold of the scenario: no best.yaml. The front below shows the trade-offs.';
  return `#${b.index} ${b.label}: the office delivered ${pct(b.officeDelivered)} with p95 ${ms(b.officeP95)}, the attack got ${pct(b.attack)} through.${ctx.bestFile ? ` Written to ${ctx.bestFile}.` : ''}`;
}

function failedLines(rows: SweepRow[]): string[] {
  return rows.filter((r) => !r.passed).map((r) => `#${r.index}: ${r.summary.interrupted ? 'interrupted' : r.summary.thresholds.filter((t) => !t.ok).map((t) => `${t.metric} ${t.rule} (${t.value ?? 'no data'})`).join(', ')}`);
}

export function renderSweepMd(rows: SweepRow[], ctx: SweepContext): string {
  const out = [`# sweep: ${ctx.scenario}`, '', intro(ctx, rows), '', '## Best under the thresholds', '', bestLine(rows, ctx), '', '## Configs', ''];
  out.push(
    ...mdTable(
      ['#', ...ctx.keys, 'thresholds', 'office delivered', 'office p95', 'attack through', '', 'report'],
      rows.map((r) => [r.index, ...ctx.keys.map((k) => `\`${r.values[k]}\``), verdict(r), pct(r.officeDelivered), ms(r.officeP95), pct(r.attack), marks(r), `[report](${r.dir}/report.md)`]),
      [...ctx.keys.map((_, i) => i + 1), ctx.keys.length + 5, ctx.keys.length + 6],
    ),
    '',
    FRONT_NOTE,
    ATTACK_NOTE,
    '',
  );
  const kinds = kindsOf(rows);
  if (kinds.length) out.push('## What each attack got through', '', ...mdTable(['#', ...kinds], rows.map((r) => [r.index, ...kinds.map((k) => pct(r.attackByKind[k] ?? null))])), '');
  const failed = failedLines(rows);
  if (failed.length) out.push('## Thresholds failed', '', ...failed.map((l) => `- ${l}`), '');
  return out.join('\n');
}

function points(rows: SweepRow[], y: (r: SweepRow) => number | null): ScatterPoint[] {
  return rows
    .filter((r) => r.attack !== null || Object.keys(r.attackByKind).length === 0)
    .flatMap((r) => {
      const v = y(r);
      if (v === null) return [];
      return [{ id: `#${r.index}`, x: (r.attack ?? 0) * 100, y: v, front: r.front, passed: r.passed, best: r.best, title: `#${r.index} ${r.label}: office ${pct(r.officeDelivered)} p95 ${ms(r.officeP95)}, attack ${pct(r.attack)}` }];
    });
}

export function renderSweepHtml(rows: SweepRow[], ctx: SweepContext): string {
  const body: string[] = [`<h1>sweep: ${escapeHtml(ctx.scenario)}</h1>`, `<p class="meta">${escapeHtml(intro(ctx, rows))}</p>`];
  const best = rows.find((r) => r.best);
  body.push(`<h2>Best under the thresholds</h2><p><span class="badge ${best ? 'pass' : 'fail'}">${best ? `#${best.index}` : 'none'}</span> ${escapeHtml(bestLine(rows, ctx))}</p>`);
  body.push('<h2>The Pareto front</h2><div class="charts">');
  body.push(figure('office mail delivered against the attack let through', scatterSvg(points(rows, (r) => (r.officeDelivered === null ? null : r.officeDelivered * 100)), { x: { title: 'attack through (lower is better)', unit: '%' }, y: { title: 'office delivered (higher is better)', unit: '%', tight: true, top: 100 } }), FRONT_NOTE));
  body.push(figure("the office's p95 latency against the attack let through", scatterSvg(points(rows, (r) => r.officeP95), { x: { title: 'attack through (lower is better)', unit: '%' }, y: { title: 'office p95 (lower is better)', unit: 'ms' } }), ATTACK_NOTE));
  body.push('</div>');
  body.push('<h2>Configs</h2>');
  body.push(
    table(
      ['#', ...ctx.keys, 'thresholds', 'office delivered', 'office p95', 'attack through', '', 'report'],
      rows.map((r): Cell[] => [
        r.index,
        ...ctx.keys.map((k): Cell => ({ html: `<code>${escapeHtml(r.values[k])}</code>`, cls: 'text' })),
        { html: escapeHtml(verdict(r)), cls: r.passed ? 'ok' : 'bad' },
        pct(r.officeDelivered),
        ms(r.officeP95),
        pct(r.attack),
        { html: r.best ? `<b>${escapeHtml(marks(r))}</b>` : escapeHtml(marks(r)), cls: 'text' },
        { html: `<a href="${escapeHtml(`${r.dir}/report.html`)}">report.html</a>`, cls: 'text' },
      ]),
      [],
    ),
  );
  const kinds = kindsOf(rows);
  if (kinds.length) body.push('<h2>What each attack got through</h2>', table(['#', ...kinds], rows.map((r) => [r.index, ...kinds.map((k) => pct(r.attackByKind[k] ?? null))])));
  const failed = failedLines(rows);
  if (failed.length) body.push('<h2>Thresholds failed</h2><ul>', ...failed.map((l) => `<li>${escapeHtml(l)}</li>`), '</ul>');
  return page(`attitude sweep: ${ctx.scenario}`, body.join('\n'));
}

export function sweepJson(rows: SweepRow[], ctx: SweepContext): string {
  return (
    JSON.stringify(
      {
        scenario: ctx.scenario,
        seed: ctx.seed,
        durationMs: ctx.durationMs,
        base: ctx.base,
        keys: ctx.keys,
        interrupted: ctx.interrupted,
        planned: ctx.planned,
        best: rows.find((r) => r.best)?.index ?? null,
        configs: rows.map((r) => ({
          index: r.index,
          values: r.values,
          dir: r.dir,
          passed: r.passed,
          thresholds: { passed: r.thresholdsPassed, total: r.thresholds },
          officeDelivered: r.officeDelivered,
          officeP95: r.officeP95,
          attack: r.attack,
          attackByKind: r.attackByKind,
          front: r.front,
        })),
      },
      null,
      2,
    ) + '\n'
  );
}

export function writeSweepFiles(outDir: string, rows: SweepRow[], ctx: SweepContext): string[] {
  writeFileSync(path.join(outDir, 'sweep.md'), renderSweepMd(rows, ctx));
  writeFileSync(path.join(outDir, 'sweep.html'), renderSweepHtml(rows, ctx));
  writeFileSync(path.join(outDir, 'sweep.json'), sweepJson(rows, ctx));
  return ['sweep.md', 'sweep.html', 'sweep.json'];
}
