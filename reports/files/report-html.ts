// report.html: one self-contained page per run (inline CSS and SVG, nothing
// fetched) with the verdict, the lesson, the charts over time, outcomes per
// actor, latency percentiles, the defenses that fired and the ledger.
import type { RunSummary } from '../../simulator/summary.ts';
import { timeCharts } from '../model/charts.ts';
import { lessonNotesFor, paragraphs } from '../model/lesson.ts';
import { tallyRows, tallySource, type TallyRow } from '../model/defenses.ts';
import type { RunModel } from '../model/run-model.ts';
import { figure, page, table, type Cell } from './html-page.ts';
import { escapeHtml, groupedBarsSvg, lineChartSvg, stackedBarsSvg, type BarRow } from './svg.ts';
import { ACTOR_HEAD, actorCells, BACKEND_HEAD, backendRows, clientSpreadLine, INSTANCE_HEAD, instanceRows } from '../model/tables.ts';

export const OUTCOME_COLORS = { delivered: '#2ca02c', lost: '#000000', deferred: '#f0a030', rejected: '#d62728', abandoned: '#9a9a9a', inFlight: '#b7d3ee' };


export function outcomeRows(s: RunSummary): BarRow[] {
  return Object.entries(s.actors)
    .filter(([, a]) => a.messages.attempted > 0)
    .map(([name, a]) => ({
      label: name,
      parts: [
        { name: 'delivered', value: a.messages.delivered, color: OUTCOME_COLORS.delivered },
        { name: 'lost', value: a.messages.lost, color: OUTCOME_COLORS.lost },
        { name: 'deferred', value: a.messages.deferred, color: OUTCOME_COLORS.deferred },
        { name: 'rejected', value: a.messages.rejected, color: OUTCOME_COLORS.rejected },
        { name: 'abandoned', value: a.messages.abandoned, color: OUTCOME_COLORS.abandoned },
        { name: 'in flight at the end', value: a.messages.inFlight, color: OUTCOME_COLORS.inFlight },
      ],
    }));
}

export function connectionRows(s: RunSummary): BarRow[] {
  return Object.entries(s.actors)
    .filter(([, a]) => a.connections.attempted > 0)
    .map(([name, a]) => ({
      label: name,
      parts: [
        { name: 'greeted', value: a.connections.greeted, color: '#2f7ed8' },
        { name: 'refused', value: a.connections.refused, color: '#d62728' },
        { name: 'other', value: Math.max(0, a.connections.attempted - a.connections.greeted - a.connections.refused), color: '#bbbbbb' },
      ],
    }));
}

function verdict(s: RunSummary): string {
  if (s.interrupted) return '<span class="badge warn">interrupted</span>';
  return s.passed ? '<span class="badge pass">✓ all thresholds passed</span>' : '<span class="badge fail">✗ some thresholds failed</span>';
}

/** `code` in a lesson, as code (the text is escaped already; backticks are not markup). */
function codeSpans(html: string): string {
  return html.replace(/`([^`]+)`/g, '<code>$1</code>');
}

export function thresholdsTable(s: RunSummary): string {
  if (!s.thresholds.length) return '<p>No thresholds in this scenario.</p>';
  return table(
    ['', 'metric', 'rule', 'measured'],
    s.thresholds.map((t): Cell[] => [{ html: t.ok ? '✓' : '✗', cls: t.ok ? 'ok' : 'bad' }, { html: `<code>${escapeHtml(t.metric)}</code>`, cls: 'text' }, { html: escapeHtml(t.rule), cls: 'text' }, t.value === null ? 'no data' : t.value]),
    [0, 1, 2],
  );
}

export function renderReportHtml(s: RunSummary, model: RunModel): string {
  const info = model.info;
  const body: string[] = [];
  body.push(`<h1>${escapeHtml(s.scenario)}</h1>`);
  if (info?.description) body.push(`<p class="meta">${escapeHtml(info.description)}</p>`);
  body.push(
    `<p class="meta">seed ${s.seed} · duration ${s.durationMs / 1000}s (ran ${(s.elapsedMs / 1000).toFixed(1)}s) · config ${escapeHtml(s.proxyConfig ?? 'external target')} · target ${escapeHtml(s.target)}</p>`,
  );
  body.push(`<p>${verdict(s)}</p>`);

  body.push('<h2>Thresholds</h2>', thresholdsTable(s));

  if (info?.lesson.trim()) {
    body.push('<h2>Lesson</h2>', `<div class="lesson">${paragraphs(info.lesson).filter(Boolean).map((p) => `<p>${codeSpans(escapeHtml(p))}</p>`).join('')}</div>`);
    const notes = lessonNotesFor(model);
    if (notes) body.push(`<p>${escapeHtml(notes.heading)}</p><ul>${notes.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`);
    if (model.marks.length) body.push(`<p>Marks: ${model.marks.map((m) => `<b>${(m.t / 1000).toFixed(0)}s</b> ${escapeHtml(m.title)}${m.predict ? ` (predict: ${escapeHtml(m.predict)})` : ''}`).join(' · ')}</p>`);
  }

  body.push('<h2>Over time</h2><div class="charts">');
  for (const chart of timeCharts(model, 6)) {
    body.push(figure(`${chart.title} (${chart.unit})`, lineChartSvg(chart), chart.note));
  }
  body.push('</div>');

  body.push('<h2>Outcomes per actor</h2><div class="charts">');
  const outcomes = outcomeRows(s);
  if (outcomes.length) body.push(figure('Messages', stackedBarsSvg(outcomes), 'Delivered means a backend received it (ground truth); lost means the sender was told 250 and no backend got it.'));
  body.push(figure('Connections', stackedBarsSvg(connectionRows(s)), 'Refused: a 421/554 banner, a refused TCP connection or no banner at all.'));
  body.push('</div>');
  const latencyRows = Object.entries(s.actors)
    .filter(([, a]) => a.latencyMs.p50 !== null)
    .map(([name, a]) => ({ label: name, values: [{ name: 'p50', value: a.latencyMs.p50 }, { name: 'p95', value: a.latencyMs.p95 }, { name: 'p99', value: a.latencyMs.p99 }] }));
  if (latencyRows.length) body.push('<h3>Latency percentiles</h3>', groupedBarsSvg(latencyRows, 'ms'));

  body.push('<h2>Actors</h2>');
  body.push(
    table(
      ['actor', 'kind', ...ACTOR_HEAD],
      Object.entries(s.actors).map(([name, a]): Cell[] => [name, { html: escapeHtml(a.kind), cls: 'text' }, ...actorCells(a)]),
      [0, 1],
    ),
  );
  const extras = Object.entries(s.actors).flatMap(([name, a]) => [
    ...(a.relay ? [`${name}: ${a.relay.accepted}/${a.relay.probes} open-relay tricks accepted${a.relay.acceptedTricks.length ? ` (${a.relay.acceptedTricks.join(', ')})` : ''}`] : []),
    ...(a.smuggling ? [`${name}: ${a.smuggling.smuggled}/${a.smuggling.sent} smuggled messages reached a backend${a.smuggling.smuggledVariants.length ? ` (${a.smuggling.smuggledVariants.join(', ')})` : ''}`] : []),
    ...(a.early ? [`${name}: early talkers ${a.early.refused} refused, ${a.early.greeted} greeted`] : []),
  ]);
  if (extras.length) body.push(`<ul>${extras.map((e) => `<li>${escapeHtml(e)}</li>`).join('')}</ul>`);

  body.push('<h2>Backends</h2>');
  body.push(table(BACKEND_HEAD, backendRows(s), [0, 1]));

  const instances = instanceRows(s);
  if (instances.length) body.push('<h2>Proxy instances</h2>', table(INSTANCE_HEAD, instances), `<p>${escapeHtml(clientSpreadLine(s) ?? '')}</p>`);

  const d = model.defenses.result();
  const { defenses, infrastructure } = tallyRows(d);
  const rows = (list: TallyRow[]) => list.map((r): Cell[] => [r.name, r.reply, r.what]);
  body.push('<h2>Defenses that fired</h2>', `<p class="note">Counted: ${escapeHtml(tallySource(d))}.</p>`);
  body.push(defenses.length ? table(['defense', 'reply', 'what it did'], rows(defenses), [0, 1, 2]) : '<p>None fired.</p>');
  if (infrastructure.length) {
    body.push('<h2>Infrastructure</h2>', '<p class="note">Not defenses: connections that ended without any SMTP reply, and mail servers in trouble.</p>');
    body.push(table(['what', 'reply', 'how often, and what it means'], rows(infrastructure), [0, 1, 2]));
  }

  const l = s.ledger;
  body.push('<h2>Ledger</h2>');
  body.push(table(['accepted by proxy', 'received by backends', 'lost', 'duplicates', 'unconfirmed', 'foreign'], [[l.acceptedByProxy, l.receivedByBackends, l.lost, l.duplicates, l.unconfirmed, l.foreign]], []));
  body.push('<p class="note">Counted from the ids the mock backends received, not from what the proxy claims. Unconfirmed: received although the sender was never told 250 (smuggled, or a 250 lost on the way back).</p>');
  return page(`attitude: ${s.scenario}`, body.join('\n'));
}
