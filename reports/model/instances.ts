// The proxy instances of a run with `proxies: N`: one row per instance and the
// per-client check across them, for the end summary and the report files alike.
import type { RunSummary } from '../../simulator/summary.ts';

export const INSTANCE_HEAD = ['instance', 'connections accepted', 'refused', 'delivered', 'peak open connections'];

/** Rows when the run had more than one instance; none otherwise. */
export function instanceRows(s: RunSummary): Array<Array<string | number>> {
  const spread = s.proxies;
  if (!spread || spread.instances.length < 2) return [];
  return spread.instances.map((i) => [`#${i.instance + 1}`, i.accepted, i.refused, i.delivered, i.peakConnections]);
}

/** The most connections one client held across all instances. */
export function clientSpreadLine(s: RunSummary): string | null {
  const spread = s.proxies;
  if (!spread || spread.instances.length < 2) return null;
  return `the most connections one client held across all instances: ${spread.clientConnectionsMax}${spread.clientConnectionsMaxBy ? ` (${spread.clientConnectionsMaxBy})` : ''}`;
}
