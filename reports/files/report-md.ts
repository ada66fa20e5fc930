// report.md: the run in Markdown, for a pull request, a wiki or a terminal;
// sparklines stand in for the charts (report.html has the real ones).
import type { RunSummary } from '../../simulator/summary.ts';
import { timeCharts, type Chart } from '../model/charts.ts';
import { lessonNotesFor, paragraphs } from '../model/lesson.ts';
import { tallyRows, tallySource, type TallyRow } from '../model/defenses.ts';
import type { RunModel } from '../model/run-model.ts';
import { sparkline } from './svg.ts';
import { ACTOR_HEAD, actorCells, BACKEND_HEAD, backendRows, clientSpreadLine, INSTANCE_HEAD, instanceRows } from '../model/tables.ts';

const cell = (v: unknown) => (v === null || v === undefined ? '-' : String(v).replace(/\|/g, '\\|').replace(/\n/g, ' '));

/** A Markdown table; `text` columns are left-aligned, the others (numbers) right. */

export function mdTable(head: string[], rows: unknown[][], text: number[] = [0]): string[] {
  return [`| ${head.map(cell).join(' | ')} |`, `|${head.map((_, i) => (text.includes(i) ? ' --- ' : ' ---: ')).join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)];
}

function chartLines(chart: Chart): string[] {
  const lines = [`**${chart.title}** (${chart.unit})`, '', '```'];
  const width = Math.max(8, ...chart.series.map((s) => s.name.length));
  for (const s of chart.series) {
    const values = s.values.filter((v): v is number => v !== null);
    const max = values.length ? Math.max(...values) : 0;
    lines.push(`${s.name.padEnd(width)}  ${sparkline(s.values, 50)}  max ${Math.round(max * 10) / 10}`);
  }
  if (!chart.series.length) lines.push('(nothing)');
  for (const s of chart.spans) lines.push(`${s.label.padEnd(width)}  from ${s.from}s to ${s.to}s`);
  lines.push('```', '');
  return lines;
}

export function renderReportMd(s: RunSummary, model: RunModel): string {
  const info = model.info;
  const out: string[] = [];
  out.push(`# ${s.scenario}`, '');
  if (info?.description) out.push(`_${info.description}_`, '');
  out.push(`- seed ${s.seed}, duration ${s.durationMs / 1000}s (ran ${(s.elapsedMs / 1000).toFixed(1)}s)`);
  out.push(`- config \`${s.proxyConfig ?? 'external target'}\`, target ${s.target}`);
  out.push(`- **${s.interrupted ? 'interrupted' : s.passed ? '✓ all thresholds passed' : '✗ some thresholds failed'}**`, '');

  out.push('## Thresholds', '');
  if (s.thresholds.length) out.push(...mdTable(['', 'metric', 'rule', 'measured'], s.thresholds.map((t) => [t.ok ? '✓' : '✗', `\`${t.metric}\``, t.rule, t.value ?? 'no data']), [0, 1, 2]), '');
  else out.push('No thresholds in this scenario.', '');

  if (info?.lesson.trim()) {
    out.push('## Lesson', '', ...paragraphs(info.lesson).map((p) => (p ? `> ${p}` : '>')), '');
    const notes = lessonNotesFor(model);
    if (notes) out.push(notes.heading, '', ...notes.notes.map((n) => `- ${n}`), '');
    for (const m of model.marks) out.push(`- **${(m.t / 1000).toFixed(0)}s** ${m.title}${m.predict ? ` (predict: ${m.predict})` : ''}`);
    if (model.marks.length) out.push('');
  }

  out.push('## Actors', '');
  out.push(
    ...mdTable(
      ['actor', 'kind', ...ACTOR_HEAD],
      Object.entries(s.actors).map(([name, a]) => [name, a.kind, ...actorCells(a)]),
      [0, 1],
    ),
    '',
  );

  out.push('## Backends', '');
  out.push(...mdTable(BACKEND_HEAD, backendRows(s), [0, 1]), '');

  const instances = instanceRows(s);
  if (instances.length) out.push('## Proxy instances', '', ...mdTable(INSTANCE_HEAD, instances), '', `${clientSpreadLine(s)}`, '');

  const d = model.defenses.result();
  const { defenses, infrastructure } = tallyRows(d);
  const rows = (list: TallyRow[]) => list.map((r) => [r.name, r.reply, r.what]);
  out.push('## Defenses that fired', '', `Counted: ${tallySource(d)}.`, '');
  out.push(...(defenses.length ? mdTable(['defense', 'reply', 'what it did'], rows(defenses), [0, 1, 2]) : ['None fired.']), '');
  if (infrastructure.length) {
    out.push('## Infrastructure', '', 'Not defenses: connections that ended without any SMTP reply, and mail servers in trouble.', '');
    out.push(...mdTable(['what', 'reply', 'how often, and what it means'], rows(infrastructure), [0, 1, 2]), '');
  }

  const l = s.ledger;
  out.push('## Ledger', '', `accepted by proxy ${l.acceptedByProxy}, received by backends ${l.receivedByBackends}, **lost ${l.lost}**, **duplicates ${l.duplicates}**, unconfirmed ${l.unconfirmed}`, '');

  out.push('## Over time', '');
  for (const chart of timeCharts(model)) out.push(...chartLines(chart));
  out.push('Charts: see report.html beside this file.', '');
  return out.join('\n');
}
