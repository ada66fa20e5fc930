// What `attitude sweep` prints: a line per finished run, then the grid as a table with
// the Pareto front and the best config marked.
import { textTable } from '../text/columns.ts';
import { ms, pct, type SweepRow } from './sweep.ts';

export function runLine(r: Omit<SweepRow, 'front' | 'best'>, planned: number): string {
  const verdict = r.summary.interrupted ? 'interrupted' : `${r.passed ? '✓' : '✗'} ${r.thresholdsPassed}/${r.thresholds}`;
  return `  ${String(r.index).padStart(String(planned).length)}/${planned}  ${r.label}  ${verdict}  office ${pct(r.officeDelivered)} p95 ${ms(r.officeP95)}  attack ${pct(r.attack)}  ${r.dir}/`;
}

export function formatSweep(rows: SweepRow[], keys: string[], header: string): string {
  const out = ['', `  SWEEP  ${header}`, ''];
  out.push(
    ...textTable(
      ['#', ...keys, 'thresholds', 'office delivered', 'office p95', 'attack through', ''],
      rows.map((r) => [String(r.index), ...keys.map((k) => r.values[k]), `${r.passed ? '✓' : '✗'} ${r.thresholdsPassed}/${r.thresholds}`, pct(r.officeDelivered), ms(r.officeP95), pct(r.attack), `${r.front ? '◆' : ''}${r.best ? ' ★ best' : ''}`]),
      '    ',
    ),
  );
  out.push('', '    ◆ on the Pareto front: no other config delivered as much office mail, as fast, with less attack through');
  return out.join('\n');
}
