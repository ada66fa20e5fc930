// The end summary in the terminal (k6-like): thresholds first with ✓/✗ and the
// measured value, then per actor, per backend, the ledger, and one line per
// defense that fired. Built from summary.json and the defenses the event stream showed.
import type { RunSummary } from '../../simulator/summary.ts';
import { tallyRows, tallySource, type DefenseTally, type TallyRow } from '../model/defenses.ts';
import { clientSpreadLine, instanceRows } from '../model/tables.ts';

const pct = (n: number, d: number) => (d ? `${((100 * n) / d).toFixed(1)}%` : '-');
const ms = (v: number | null) => (v === null ? '-' : `${v}ms`);

export interface SummaryTextOptions {
  /** the run folder, named at the end */
  outDir?: string;
  defenses?: DefenseTally;
  /** the files written, named at the end */
  files?: string[];
}


export function formatSummary(s: RunSummary, o: SummaryTextOptions = {}): string {
  const lines: string[] = [];
  lines.push('', `  scenario ${s.scenario}  seed ${s.seed}  duration ${s.durationMs / 1000}s  (ran ${(s.elapsedMs / 1000).toFixed(1)}s)${s.interrupted ? '  INTERRUPTED' : ''}`);
  lines.push(`  target   ${s.target}${s.proxyConfig ? `  config ${s.proxyConfig}` : ''}`, '');
  if (s.thresholds.length) {
    lines.push('  THRESHOLDS');
    for (const t of s.thresholds) lines.push(`    ${t.ok ? '✓' : '✗'} ${t.metric} ${t.rule}  (${t.value === null ? 'no data' : t.value})`);
    lines.push('');
  }
  lines.push('  ACTORS');
  for (const [name, a] of Object.entries(s.actors)) {
    const m = a.messages;
    const c = a.connections;
    lines.push(`    ${name} (${a.kind}, ${a.clients} client${a.clients === 1 ? '' : 's'})`);
    if (m.attempted) {
      lines.push(
        `      messages    ${m.attempted} attempted, ${m.delivered} delivered (${pct(m.delivered, m.attempted)}), ${m.accepted} accepted, ${m.deferred} deferred, ${m.rejected} rejected, ${m.abandoned} abandoned${m.inFlight ? `, ${m.inFlight} in flight at the end` : ''}${m.lost ? `, ${m.lost} LOST` : ''}${m.duplicates ? `, ${m.duplicates} duplicates` : ''}`,
      );
      if (a.latencyMs.p50 !== null) lines.push(`      latency     p50 ${ms(a.latencyMs.p50)}  p95 ${ms(a.latencyMs.p95)}  p99 ${ms(a.latencyMs.p99)}`);
    }
    lines.push(`      connections ${c.attempted} attempted, ${c.greeted} greeted, ${c.refused} refused (${pct(c.refused, c.attempted)})`);
    if (a.relay) lines.push(`      relay       ${a.relay.accepted}/${a.relay.probes} tricks accepted${a.relay.acceptedTricks.length ? `: ${a.relay.acceptedTricks.join(', ')}` : ''}`);
    if (a.smuggling) lines.push(`      smuggling   ${a.smuggling.smuggled}/${a.smuggling.sent} smuggled messages reached a backend${a.smuggling.smuggledVariants.length ? `: ${a.smuggling.smuggledVariants.join(', ')}` : ''}`);
    if (a.early) lines.push(`      early talk  ${a.early.refused} refused, ${a.early.greeted} greeted${a.early.other ? `, ${a.early.other} other` : ''}`);
    const top = (tally: Record<string, number>) =>
      Object.entries(tally)
        .sort((x, y) => y[1] - x[1])
        .slice(0, 5)
        .map(([r, n]) => `${r} ${n}`)
        .join(', ');
    if (Object.keys(a.refusals).length) lines.push(`      refusals    ${top(a.refusals)}`);
    if (Object.keys(a.failures ?? {}).length) lines.push(`      no reply    ${top(a.failures)}`);
  }
  lines.push('', '  BACKENDS');
  for (const [name, b] of Object.entries(s.backends)) {
    lines.push(`    ${name}  ${b.address ? `${b.address}  ` : ''}received ${b.received}  peak sessions ${b.peakConnections}${b.foreignConnections ? ` (+${b.foreignConnections} without mail)` : ''}${b.refusedConnections ? `  refused ${b.refusedConnections}` : ''}${b.tempfailed ? `  451 ${b.tempfailed}` : ''}${b.rejected ? `  554 ${b.rejected}` : ''}`);
  }
  const instances = instanceRows(s);
  if (instances.length) {
    lines.push('', '  PROXY INSTANCES');
    for (const [name, accepted, refused, delivered, peak] of instances) {
      lines.push(`    ${name}  connections ${accepted} accepted, ${refused} refused  delivered ${delivered}  peak open ${peak}`);
    }
    lines.push(`    ${clientSpreadLine(s)}`);
  }
  if (o.defenses) lines.push(...defenseLines(o.defenses));
  const l = s.ledger;
  lines.push('', `  LEDGER   accepted by proxy ${l.acceptedByProxy}  received by backends ${l.receivedByBackends}  lost ${l.lost}  duplicates ${l.duplicates}${l.unconfirmedRedeliveries ? `  unconfirmed redeliveries ${l.unconfirmedRedeliveries}` : ''}${l.unconfirmed ? `  unconfirmed ${l.unconfirmed}` : ''}`);
  lines.push('', `  ${s.interrupted ? 'interrupted' : s.passed ? '✓ all thresholds passed' : '✗ some thresholds failed'}${o.outDir ? `   (${o.outDir}/: ${(o.files ?? ['summary.json', 'events.jsonl']).join(', ')})` : ''}`, '');
  return lines.join('\n');
}

function defenseLines(d: DefenseTally): string[] {
  const { defenses, infrastructure } = tallyRows(d);
  const width = Math.max(18, ...[...defenses, ...infrastructure].map((r) => r.name.length));
  const line = (r: TallyRow) => `    ${r.name.padEnd(width)}  ${r.reply.padEnd(9)}  ${r.what}`;
  const lines = defenses.length ? ['', `  DEFENSES  (${tallySource(d)})`, ...defenses.map(line)] : ['', '  DEFENSES  none fired'];
  if (infrastructure.length) lines.push('', '  INFRASTRUCTURE  (not defenses: connections without any reply, mail servers in trouble)', ...infrastructure.map(line));
  return lines;
}
