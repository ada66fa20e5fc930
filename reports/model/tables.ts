// Table rows built once for the end summary and both report files: the actors, and
// the proxy instances of a run with `proxies: N` with the per-client check across them.
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

type Actor = RunSummary['actors'][string];

/** The figures of an actor after its name and kind. */
export const ACTOR_HEAD = ['clients', 'attempted', 'delivered', 'deferred', 'rejected', 'abandoned', 'in flight', 'lost', 'conns', 'refused', 'p50 ms', 'p95 ms', 'p99 ms'];

export function actorCells(a: Actor): Array<number | null> {
  const m = a.messages;
  return [a.clients, m.attempted, m.delivered, m.deferred, m.rejected, m.abandoned, m.inFlight, m.lost, a.connections.attempted, a.connections.refused, a.latencyMs.p50, a.latencyMs.p95, a.latencyMs.p99];
}

/** The backends: where each listened, what it received, its peak of sessions carrying mail and the other connections (health checks). */
export const BACKEND_HEAD = ['backend', 'address', 'received', 'peak sessions', 'other connections', 'refused connections', '451', '554'];

export function backendRows(s: RunSummary): Array<Array<string | number>> {
  return Object.entries(s.backends).map(([name, b]) => [name, b.address, b.received, b.peakConnections, b.foreignConnections, b.refusedConnections, b.tempfailed, b.rejected]);
}
