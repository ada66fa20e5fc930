// compare.md and compare.html: the comparison as files, each run's own report
// linked from its folder. The HTML is self-contained like report.html.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { mdTable } from '../files/report-md.ts';
import { figure, page, table, type Cell } from '../files/html-page.ts';
import { escapeHtml, groupedBarsSvg } from '../files/svg.ts';
import { formatDiff, formatValue, rankingText, rankRuns, type CompareRow, type CompareRun } from './compare.ts';

function thresholdRows(runs: CompareRun[]): Array<{ key: string; cells: Array<{ ok: boolean; value: number | null } | null> }> {
  const keys = [...new Set(runs.flatMap((r) => r.summary.thresholds.map((t) => `${t.metric} ${t.rule}`)))];
  return keys.map((key) => ({
    key,
    cells: runs.map((r) => {
      const t = r.summary.thresholds.find((x) => `${x.metric} ${x.rule}` === key);
      return t ? { ok: t.ok, value: t.value } : null;
    }),
  }));
}

const verdict = (r: CompareRun) => (r.summary.interrupted ? 'interrupted' : r.summary.passed ? '✓ passed' : '✗ failed');

export function renderCompareMd(runs: CompareRun[], rows: CompareRow[]): string {
  const s = runs[0].summary;
  const out = [`# compare: ${s.scenario}`, '', `Seed ${s.seed}, duration ${s.durationMs / 1000}s: the same traffic against each run.`, ''];
  out.push(...mdTable(['run', 'config or target', 'verdict', 'report'], runs.map((r) => [r.label, `\`${r.source}\``, verdict(r), `[report](${r.dir}/report.md)`]), [0, 1, 2, 3]), '');
  out.push('## Thresholds', '');
  const th = thresholdRows(runs);
  if (th.length) out.push(...mdTable(['threshold', ...runs.map((r) => r.label)], th.map((t) => [`\`${t.key}\``, ...t.cells.map((c) => (c ? `${c.ok ? '✓' : '✗'} ${c.value ?? 'no data'}` : '-'))])), '');
  else out.push('No thresholds in this scenario.', '');
  out.push('## Metrics', '', 'Δ is the difference from the first run; "better" says which direction is better for that actor.', '');
  out.push(
    ...mdTable(
      ['subject', 'metric', 'better', ...runs.map((r) => r.label), ...runs.slice(1).map((r) => `Δ ${r.label}`), 'best'],
      rows.map((r) => [
        r.subject,
        r.metric,
        r.better ?? '-',
        ...r.values.map((v) => formatValue(v, r.unit)),
        ...r.values.slice(1).map((v) => formatDiff(v, r.values[0], r.unit)),
        r.better === null ? '' : r.best.length ? r.best.map((i) => runs[i].label).join(', ') : 'tie',
      ]),
      [0, 1, 2, 3 + 2 * runs.length - 1],
    ),
    '',
  );
  out.push('## Ranking', '', "Thresholds passed first, then the metrics each actor's role is judged by (ties shared):", '', rankingText(runs, rankRuns(runs, rows)), '');
  return out.join('\n');
}

/** One chart per headline metric: a bar per run for each actor it applies to. */
function headlineCharts(runs: CompareRun[], rows: CompareRow[]): string[] {
  const charts: string[] = [];
  for (const metric of ['delivered ratio', 'accepted ratio', 'connections refused ratio', 'latency p95']) {
    const matching = rows.filter((r) => r.metric === metric);
    if (!matching.length) continue;
    const ratio = matching[0].unit === 'ratio';
    const svg = groupedBarsSvg(
      matching.map((r) => ({ label: r.subject, values: r.values.map((v, i) => ({ name: runs[i].label, value: v === null ? null : ratio ? Math.round(v * 1000) / 10 : v })) })),
      ratio ? '%' : 'ms',
    );
    charts.push(figure(`${metric} (${matching[0].better} is better)`, svg));
  }
  return charts;
}

export function renderCompareHtml(runs: CompareRun[], rows: CompareRow[]): string {
  const s = runs[0].summary;
  const body: string[] = [`<h1>compare: ${escapeHtml(s.scenario)}</h1>`, `<p class="meta">seed ${s.seed} · duration ${s.durationMs / 1000}s · the same traffic against each run</p>`];
  body.push(
    table(
      ['run', 'config or target', 'verdict', 'report'],
      runs.map((r): Cell[] => [
        r.label,
        { html: `<code>${escapeHtml(r.source)}</code>`, cls: 'text' },
        { html: escapeHtml(verdict(r)), cls: r.summary.passed ? 'ok' : 'bad' },
        { html: `<a href="${escapeHtml(`${r.dir}/report.html`)}">report.html</a>`, cls: 'text' },
      ]),
      [0, 1, 2, 3],
    ),
  );
  body.push('<h2>Thresholds</h2>');
  const th = thresholdRows(runs);
  body.push(
    th.length
      ? table(
          ['threshold', ...runs.map((r) => r.label)],
          th.map((t): Cell[] => [{ html: `<code>${escapeHtml(t.key)}</code>`, cls: 'text' }, ...t.cells.map((c): Cell => (c ? { html: `${c.ok ? '✓' : '✗'} ${escapeHtml(String(c.value ?? 'no data'))}`, cls: c.ok ? 'ok' : 'bad' } : null))]),
        )
      : '<p>No thresholds in this scenario.</p>',
  );
  body.push('<h2>Headline metrics</h2><div class="charts">', ...headlineCharts(runs, rows), '</div>');
  body.push('<h2>All metrics</h2><p class="note">Δ is the difference from the first run; "better" says which direction is better for that actor; the winner is in bold.</p>');
  body.push(
    table(
      ['subject', 'metric', 'better', ...runs.map((r) => r.label), ...runs.slice(1).map((r) => `Δ ${r.label}`), 'best'],
      rows.map((r): Cell[] => [
        r.subject,
        { html: escapeHtml(r.metric), cls: 'text' },
        { html: escapeHtml(r.better ?? '-'), cls: 'text' },
        ...r.values.map((v, i): Cell => ({ html: r.best.includes(i) ? `<b>${escapeHtml(formatValue(v, r.unit))}</b>` : escapeHtml(formatValue(v, r.unit)) })),
        ...r.values.slice(1).map((v) => formatDiff(v, r.values[0], r.unit)),
        { html: escapeHtml(r.better === null ? '' : r.best.length ? r.best.map((i) => runs[i].label).join(', ') : 'tie'), cls: 'text' },
      ]),
      [0, 1, 2, 3 + 2 * runs.length - 1],
    ),
  );
  body.push('<h2>Ranking</h2>', "<p class=\"note\">Thresholds passed first, then the metrics each actor's role is judged by (ties shared).</p>");
  body.push(`<ol>${rankRuns(runs, rows).map((k) => `<li><b>${escapeHtml(runs[k.run].label)}</b>: ${k.passed}/${k.thresholds} thresholds${k.better.length ? `; better on ${escapeHtml(k.better.join(', '))}` : ''}</li>`).join('')}</ol>`);
  return page(`attitude compare: ${s.scenario}`, body.join('\n'));
}

export function writeCompareFiles(outDir: string, runs: CompareRun[], rows: CompareRow[]): string[] {
  writeFileSync(path.join(outDir, 'compare.md'), renderCompareMd(runs, rows));
  writeFileSync(path.join(outDir, 'compare.html'), renderCompareHtml(runs, rows));
  return ['compare.md', 'compare.html'];
}
