// A plain end summary (k6-like): thresholds with ✓/✗ and their value, then per
// actor, per backend, and the ledger. A consumer of the summary, nothing more;
// the reports engine replaces it with its own.
import type { RunSummary } from './summary.ts';

const pct = (n: number, d: number) => (d ? `${((100 * n) / d).toFixed(1)}%` : '-');
const ms = (v: number | null) => (v === null ? '-' : `${v}ms`);

export function formatSummary(s: RunSummary, outDir?: string): string {
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
        `      messages    ${m.attempted} attempted, ${m.delivered} delivered (${pct(m.delivered, m.attempted)}), ${m.accepted} accepted, ${m.deferred} deferred, ${m.rejected} rejected, ${m.abandoned} abandoned${m.lost ? `, ${m.lost} LOST` : ''}${m.duplicates ? `, ${m.duplicates} duplicates` : ''}`,
      );
      if (a.latencyMs.p50 !== null) lines.push(`      latency     p50 ${ms(a.latencyMs.p50)}  p95 ${ms(a.latencyMs.p95)}  p99 ${ms(a.latencyMs.p99)}`);
    }
    lines.push(`      connections ${c.attempted} attempted, ${c.greeted} greeted, ${c.refused} refused (${pct(c.refused, c.attempted)})`);
    if (a.relay) lines.push(`      relay       ${a.relay.accepted}/${a.relay.probes} tricks accepted${a.relay.acceptedTricks.length ? `: ${a.relay.acceptedTricks.join(', ')}` : ''}`);
    if (a.smuggling) lines.push(`      smuggling   ${a.smuggling.smuggled}/${a.smuggling.sent} smuggled messages reached a backend${a.smuggling.smuggledVariants.length ? `: ${a.smuggling.smuggledVariants.join(', ')}` : ''}`);
    if (a.early) lines.push(`      early talk  ${a.early.refused} refused, ${a.early.greeted} greeted${a.early.other ? `, ${a.early.other} other` : ''}`);
    const reasons = Object.entries(a.refusals).sort((x, y) => y[1] - x[1]);
    if (reasons.length) lines.push(`      refusals    ${reasons.slice(0, 5).map(([r, n]) => `${r} ${n}`).join(', ')}`);
  }
  lines.push('', '  BACKENDS');
  for (const [name, b] of Object.entries(s.backends)) {
    lines.push(`    ${name}  received ${b.received}  peak sessions ${b.peakConnections}${b.refusedConnections ? `  refused ${b.refusedConnections}` : ''}${b.tempfailed ? `  451 ${b.tempfailed}` : ''}${b.rejected ? `  554 ${b.rejected}` : ''}`);
  }
  const l = s.ledger;
  lines.push('', `  LEDGER   accepted by proxy ${l.acceptedByProxy}  received by backends ${l.receivedByBackends}  lost ${l.lost}  duplicates ${l.duplicates}${l.unconfirmed ? `  unconfirmed ${l.unconfirmed}` : ''}`);
  lines.push('', `  ${s.interrupted ? 'interrupted' : s.passed ? '✓ all thresholds passed' : '✗ some thresholds failed'}${outDir ? `   (${outDir}/summary.json, events.jsonl)` : ''}`, '');
  return lines.join('\n');
}
