// The comparison in the terminal: each run's thresholds, then one line per
// metric with every run's value, the difference from the first, and the winner.
import { clip } from '../tui/panels.ts';
import { formatDiff, formatValue, rankingText, rankRuns, type CompareRow, type CompareRun } from './compare.ts';

export function formatThresholdsSideBySide(runs: CompareRun[]): string[] {
  const lines: string[] = [];
  const keys = [...new Set(runs.flatMap((r) => r.summary.thresholds.map((t) => `${t.metric} ${t.rule}`)))];
  if (!keys.length) return ['  (no thresholds in this scenario)'];
  const width = Math.min(52, Math.max(...keys.map((k) => k.length)));
  const col = Math.max(12, ...runs.map((r) => r.label.length + 2));
  lines.push(`    ${''.padEnd(width)}  ${runs.map((r) => r.label.padEnd(col)).join('')}`);
  for (const key of keys) {
    const cells = runs.map((r) => {
      const t = r.summary.thresholds.find((x) => `${x.metric} ${x.rule}` === key);
      return (t ? `${t.ok ? '✓' : '✗'} ${t.value ?? 'no data'}` : '-').padEnd(col);
    });
    lines.push(`    ${clip(key, width).padEnd(width)}  ${cells.join('')}`);
  }
  lines.push(`    ${''.padEnd(width)}  ${runs.map((r) => (r.summary.interrupted ? 'interrupted' : r.summary.passed ? '✓ passed' : '✗ failed').padEnd(col)).join('')}`);
  return lines;
}

export function formatCompare(runs: CompareRun[], rows: CompareRow[]): string {
  const s = runs[0].summary;
  const out: string[] = [''];
  out.push(`  COMPARE  ${s.scenario}  seed ${s.seed}  duration ${s.durationMs / 1000}s, the same traffic against each:`);
  runs.forEach((r, i) => out.push(`    ${String.fromCharCode(65 + i)} ${r.label.padEnd(14)} ${r.source}`));
  out.push('', '  THRESHOLDS', ...formatThresholdsSideBySide(runs), '');

  const metricWidth = Math.max(22, ...rows.map((r) => r.metric.length));
  const col = Math.max(10, ...runs.map((r) => r.label.length + 2));
  const head = `    ${'metric'.padEnd(metricWidth)}  ${'better'.padEnd(7)}${runs.map((r) => r.label.padStart(col)).join('')}${runs.slice(1).map((r) => `Δ ${r.label}`.padStart(col + 2)).join('')}  best`;
  out.push('  METRICS (Δ: difference from the first)', head);
  let subject = '';
  for (const r of rows) {
    if (r.subject !== subject) {
      subject = r.subject;
      out.push(`  ${r.subject}${r.kind && r.kind !== 'backend' ? ` (${r.kind})` : r.kind === 'backend' ? ' (backend)' : ''}`);
    }
    const values = r.values.map((v) => formatValue(v, r.unit).padStart(col)).join('');
    const diffs = r.values.slice(1).map((v) => formatDiff(v, r.values[0], r.unit).padStart(col + 2)).join('');
    const best = r.better === null ? '' : r.best.length ? r.best.map((i) => runs[i].label).join(', ') : 'tie';
    out.push(`    ${r.metric.padEnd(metricWidth)}  ${(r.better === null ? '-' : r.better).padEnd(7)}${values}${diffs}  ${best}`);
  }
  out.push('', `  RANKING  (thresholds passed first, then what each actor's role is judged by)`, `    ${rankingText(runs, rankRuns(runs, rows))}`);
  return out.join('\n');
}
