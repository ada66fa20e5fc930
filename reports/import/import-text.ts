// What `attitude import` prints: where the log came from, the per-kind counts as they
// were (the figures a run of the scenario is compared with), the files, what to run next.
import { ATTEMPTS, type Counts } from '../../simulator/import/counts.ts';
import type { Imported } from '../../simulator/import/build.ts';
import { formatSpeedup } from '../../simulator/import/timeline.ts';
import type { ActorKind } from '../../simulator/scenario/schema.ts';
import { formatDuration } from '../../proxy/config/units.ts';
import { textTable } from '../text/columns.ts';

export const COUNTS_HEAD = ['kind', 'addresses', 'attempts', 'accepted', 'delivered', 'connections', 'refused'];

export function countRows(counts: Counts): string[][] {
  return (Object.entries(counts) as Array<[ActorKind, NonNullable<Counts[ActorKind]>]>).map(([kind, c]) => [
    kind,
    String(c.addresses),
    `${c.attempts} ${ATTEMPTS[kind]}`,
    String(c.accepted),
    String(c.delivered),
    String(c.connections),
    String(c.refusedConnections),
  ]);
}

export interface ImportTextContext {
  source: string;
  format: string;
  lines: number;
  skipped: number;
  files: { scenario: string; proxy: string; map?: string };
}

export function formatImport(imported: Imported, ctx: ImportTextContext): string {
  const { tl } = imported;
  const out: string[] = [''];
  out.push(`  IMPORT  ${ctx.source} (${ctx.format}, ${ctx.lines} lines, ${ctx.skipped} not used): ${imported.from} to ${imported.to}`);
  out.push(`          ${formatDuration(Math.round(tl.spanMs))} of traffic replayed in ${formatDuration(tl.durationMs)} (${formatSpeedup(tl.speedup)}), ${tl.buckets} buckets of ${formatDuration(tl.bucketMs)}`);
  out.push('', '  AS IT WAS', ...textTable(COUNTS_HEAD, countRows(imported.counts), '    '));
  if (imported.idle) out.push(`    not replayed: ${imported.idle} address${imported.idle === 1 ? '' : 'es'} that only connected`);
  out.push('', '  ACTORS');
  for (const a of imported.actors) out.push(`    ${String(a.spec.name).padEnd(18)} ${String(a.spec.kind).padEnd(13)} ${a.spec.description}`);
  out.push('', `  wrote ${ctx.files.scenario} (the scenario) and ${ctx.files.proxy} (the limits as it was)${ctx.files.map ? `, ${ctx.files.map} (the address map)` : ''}`);
  out.push('', '  next:', `    attitude run ${ctx.files.scenario}`, `    attitude sweep ${ctx.files.scenario} ${imported.vary.map((v) => `--vary ${v}`).join(' ')}`, '');
  return out.join('\n');
}
