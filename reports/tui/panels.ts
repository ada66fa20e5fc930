// The text of the TUI's panels, as plain functions of the run model so they are
// tested without a terminal. Colors are blessed tags (`{red-fg}...{/red-fg}`);
// widths are counted without them.
import { formatAddresses } from '../../simulator/backends.ts';
import { chartScale, niceMax, type Chart } from '../model/charts.ts';
import { reflow, wrap } from '../model/lesson.ts';
import type { ThresholdResult } from '../../simulator/thresholds.ts';
import { formatLogEntry, type LogEntry } from '../model/event-log.ts';
import type { RunModel } from '../model/run-model.ts';

export interface HeaderState {
  /** 'live' while a run goes, or the replay speed */
  mode: { kind: 'live' } | { kind: 'replay'; speed: number };
  displayPaused: boolean;
  /** a replay stopped by the instructor */
  replayPaused?: boolean;
  /** the run (or replay) is held at a mark or by the instructor */
  held: string | null;
  /** said first, in place of the flags (the end of a replay) */
  note?: string | null;
  lesson: boolean;
  /** the clock to show: a paused display shows the time it was paused at */
  now?: number;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

export function escapeTags(text: string): string {
  return text.replace(/[{}]/g, (c) => (c === '{' ? '{open}' : '{close}'));
}

/**
 * Two lines: what runs against what, and where it stands. The flags (HELD, PAUSED)
 * are never cut: on a narrow terminal the name goes first, then the mark's title.
 */
export function headerLines(m: RunModel, s: HeaderState, width: number): [string, string] {
  const info = m.info;
  const name = info ? `${info.scenario}  seed ${info.seed}` : 'starting...';
  const clock = info ? `${seconds(s.now ?? m.now)} / ${seconds(info.durationMs)}` : '';
  const phase = m.phase === 'ended' ? (m.interrupted ? 'interrupted' : 'done') : m.phase;
  const flags = (title: string | null) =>
    [s.mode.kind === 'replay' ? `replay ×${s.mode.speed}` : '', s.held ? (title === null ? 'HELD' : `HELD: ${title}`) : '', s.replayPaused ? 'PAUSED' : '', s.displayPaused ? 'DISPLAY PAUSED' : '', s.lesson ? 'lesson' : ''].filter(Boolean);
  const tail = (title: string | null) => (s.note ? `  [${s.note}]` : flags(title).length ? `  [${flags(title).join(', ')}]` : '');
  const keys = width >= 100 ? 'q quit  p pause  l lesson  ? help' : '? help';
  const heads = [`attitude  ${name}  ${clock}  ${phase}`, `${info?.scenario ?? name}  ${clock}  ${phase}`, `${clock}  ${phase}`, clock];
  const clipped = (head: string) => {
    const room = width - (head + tail('')).length;
    return s.held && room >= 8 ? head + tail(clip(s.held, room)) : '';
  };
  // the name gives way first, then the mark's title; the flags themselves never do
  const essential = [s.held ? 'HELD' : '', s.replayPaused ? 'PAUSED' : '', s.displayPaused ? 'DISPLAY PAUSED' : ''].filter(Boolean);
  const attempts = [...heads.map((h) => h + tail(s.held)), ...heads.map(clipped), ...heads.map((h) => h + tail(null)), essential.length && !s.note ? `[${essential.join(', ')}]` : ''];
  const status = attempts.find((a) => a && a.length <= width) ?? attempts[attempts.length - 1];
  const line1 = status.length + keys.length + 2 <= width ? `${status.padEnd(width - keys.length)}${keys}` : clip(status, width);
  const config = info?.proxyConfig ? shortPath(info.proxyConfig) : info ? 'external target' : '';
  const hint = s.replayPaused ? 'paused: n +1s, e +1 event, p play | ' : '';
  const relay = info?.external ? `  relay to ${formatAddresses(info.backends)}` : '';
  return [line1, clip(`${hint}config ${config}  target ${info?.target ?? ''}${relay}`, width)];
}

/**
 * The lesson overlay's text: paragraphs reflowed to `width`, `code` in cyan, then
 * the notes for another target and a footer; blessed tags, widths without them.
 */
export function lessonText(lesson: string, width: number, notes: { heading: string; notes: string[] } | null, footer: string | null = null): string {
  const lines = lesson.trim() ? reflow(lesson, width) : ['(this scenario has no lesson)'];
  if (notes) lines.push('', ...wrap(notes.heading, width), ...notes.notes.flatMap((n) => wrap(`- ${n}`, width)));
  if (footer) lines.push('', ...wrap(footer, width));
  // a code span may run over a line break: the state carries from line to line
  let inCode = false;
  return lines
    .map((line) =>
      line
        .split('`')
        .map((part, i) => {
          if (i > 0) inCode = !inCode;
          const text = escapeTags(part);
          return inCode && text ? `{cyan-fg}${text}{/cyan-fg}` : text;
        })
        .join(''),
    )
    .join('\n');
}

/** The final screen: the verdict, then each threshold with ✓/✗ and what was measured, fitted to `width`. */
export function finalLines(r: { thresholds: ThresholdResult[]; passed: boolean; interrupted: boolean }, width: number): string[] {
  const verdict = r.interrupted ? '{yellow-fg}interrupted{/yellow-fg}' : r.passed ? '{green-fg}✓ all thresholds passed{/green-fg}' : '{red-fg}✗ some thresholds failed{/red-fg}';
  const lines = [`{bold}${verdict}{/bold}`, ''];
  if (!r.thresholds.length) lines.push('no thresholds in this scenario');
  for (const t of r.thresholds) {
    const mark = t.ok ? '{green-fg}✓{/green-fg}' : '{red-fg}✗{/red-fg}';
    lines.push(`${mark} ${escapeTags(clip(`${t.metric} ${t.rule}  (${t.value === null ? 'no data' : t.value})`, width - 2))}`);
  }
  lines.push('', 'q: leave (the summary follows in the terminal)');
  return lines;
}

export function shortPath(file: string): string {
  const parts = file.split(/[\\/]/);
  return parts.slice(-2).join('/');
}

export function clip(text: string, width: number): string {
  if (width <= 0) return '';
  return text.length <= width ? text : text.slice(0, Math.max(0, width - 1)) + '…';
}

const COLUMNS = [
  ['actor', 10],
  ['kind', 12],
  ['sent', 6],
  ['deliv', 6],
  ['defer', 6],
  ['rej', 6],
  ['conns', 7],
  ['refused', 8],
] as const;

/** The per-actor table: a header line and one line per actor, fitted to `width`. */
export function actorTable(m: RunModel, width: number): string[] {
  const nameWidth = Math.max(6, Math.min(16, Math.max(0, ...[...m.actors.keys()].map((n) => n.length))));
  const widths = COLUMNS.map(([, w], i) => (i === 0 ? nameWidth : w));
  const fit = (cells: string[]) => clip(cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' '), width);
  const lines = [fit(COLUMNS.map(([h]) => h))];
  for (const a of m.actors.values()) {
    const refusedShare = a.connAttempted ? ` ${Math.round((100 * a.connRefused) / a.connAttempted)}%` : '';
    lines.push(
      fit([clip(a.name, nameWidth), a.kind, String(a.attempted), String(a.delivered), String(a.deferred), String(a.rejected), String(a.connAttempted), `${a.connRefused}${refusedShare}`]),
    );
  }
  return lines;
}

/** `[█████░░░░░]` for value out of max. */
export function bar(value: number, max: number, width: number): string {
  const w = Math.max(1, width);
  const filled = max > 0 ? Math.min(w, Math.round((value / max) * w)) : 0;
  return '█'.repeat(filled) + '░'.repeat(w - filled);
}

function colorFor(value: number, max: number): string {
  if (max <= 0) return 'green';
  const share = value / max;
  return share >= 0.9 ? 'red' : share >= 0.6 ? 'yellow' : 'green';
}

/** Proxy connections against connections.max, then per backend sessions against capacity, with health. */
export function gaugeLines(m: RunModel, width: number): string[] {
  const labelWidth = Math.max(8, ...[...m.backends.keys()].map((n) => n.length + 2));
  const barWidth = Math.max(6, Math.min(30, width - labelWidth - 24));
  const lines: string[] = [];
  const conns = m.proxyConnections();
  if (conns) {
    const c = colorFor(conns.active, conns.max);
    const stress = m.proxyStress() ? ' {magenta-fg}STRESS{/magenta-fg}' : '';
    lines.push(`${'proxy'.padEnd(labelWidth)} {${c}-fg}${bar(conns.active, conns.max, barWidth)}{/${c}-fg} ${conns.active}/${conns.max} conns${stress}`);
  } else {
    lines.push(`${'proxy'.padEnd(labelWidth)} (no state samples: external target)`);
  }
  for (const b of m.backends.values()) {
    const cap = b.capacity || b.proxyMax || 0;
    const c = b.health === 'down' ? 'red' : colorFor(b.sessions, cap);
    const health = b.health === 'down' ? '{red-fg}DOWN{/red-fg}' : b.health === 'up' ? '{green-fg}up{/green-fg}  ' : '?   ';
    const capText = cap ? `${b.sessions}/${cap}` : `${b.sessions}`;
    lines.push(`${b.name.padEnd(labelWidth)} {${c}-fg}${bar(b.sessions, cap || Math.max(1, b.peak), barWidth)}{/${c}-fg} ${capText.padEnd(6)} ${health} ${b.received} recv`);
  }
  return lines;
}

export function logLines(entries: LogEntry[], width: number): string[] {
  return entries.map((e) => {
    const text = escapeTags(clip(formatLogEntry(e), width));
    if (e.kind === 'refusal') return `{yellow-fg}${text}{/yellow-fg}`;
    if (e.kind === 'backend' || e.kind === 'failover') return `{red-fg}${text}{/red-fg}`;
    if (e.kind === 'mark') return `{cyan-fg}${text}{/cyan-fg}`;
    if (e.kind === 'stress') return `{magenta-fg}${text}{/magenta-fg}`;
    return text;
  });
}

export const SERIES_COLORS = ['green', 'yellow', 'cyan', 'magenta', 'blue', 'white'];

/**
 * A chart's data as blessed-contrib's line chart takes it: the last `window` seconds,
 * gaps filled. While the run goes, the second in progress is left out (it has only
 * part of its counts, and every line would dip at its end).
 */
export function lineData(chart: Chart, window: number, running = false): { x: string[]; series: Array<{ title: string; y: number[]; color: string }>; maxY: number } {
  const length = Math.max(1, Math.max(0, ...chart.series.map((s) => s.values.length)) - (running ? 1 : 0));
  const from = Math.max(0, length - window);
  const x = Array.from({ length: length - from }, (_, i) => `${from + i}s`);
  let maxY = 0;
  let colorIndex = 0;
  const { offScale } = chartScale(chart);
  const series = chart.series.filter((s) => !offScale(s)).map((s) => {
    let last = 0;
    const y = x.map((_, i) => {
      const v = s.values[from + i];
      // counts are 0 where nothing happened; levels and percentiles hold their last value
      if (v === null || v === undefined) return s.limit || chart.id === 'latency' ? last : 0;
      last = v;
      return v;
    });
    maxY = Math.max(maxY, ...y);
    return { title: s.name, y, color: s.limit ? 'red' : SERIES_COLORS[colorIndex++ % SERIES_COLORS.length] };
  });
  // a round top a little above the data: the axis follows the data up and down, its labels stay round
  const top = niceMax(maxY * 1.1);
  // an outage stands out as a block under the top of the chart (a terminal cannot shade)
  for (const span of chart.spans) {
    const y = x.map((_, i) => (from + i >= span.from && from + i < span.to ? top * 0.97 : 0));
    if (y.some((v) => v > 0)) series.push({ title: span.label, y, color: 'red' });
  }
  return { x, series, maxY: top };
}

/** The chart's label with a colored legend, fitted to `width`. */
export function chartLabel(chart: Chart, colors: Array<{ title: string; color: string }>, width: number): string {
  const full = ` ${chart.title} (${chart.unit}) `;
  let text = full.length + 20 <= width ? full : ` ${chart.short} ${chart.unit}: `;
  let plain = text.length;
  for (const c of colors) {
    const piece = `${c.title} `;
    if (plain + piece.length + 2 > width) break;
    text += `{${c.color}-fg}${escapeTags(piece)}{/${c.color}-fg}`;
    plain += piece.length;
  }
  return text;
}

export const HELP = [
  'keys',
  '',
  '  q, Ctrl-C  quit (a run stops: exit 105)',
  '  p          pause the display; a replay: pause it',
  '  n          paused replay: one second on',
  '  e          paused replay: one event on',
  '  l          show / hide the lesson',
  '  c          other charts (when not all fit)',
  '  space      at a mark (--lesson): go on',
  '  ?          this help',
];
