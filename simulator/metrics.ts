// The threshold metrics of a run, computed from its ledger. A tag picks one actor
// (`actor:`), the actors of a kind (`kind:`), or one backend (`backend:`); no
// tag means all of them together.
import type { ActorLedger, LedgerResult } from './ledger.ts';
import { percentile, type MetricName, type MetricSource, type MetricValue, type TagName } from './thresholds.ts';

export function metricSource(result: LedgerResult): MetricSource {
  const seconds = Math.max(1, result.durationMs) / 1000;
  const counter = (count: number): MetricValue => ({ type: 'counter', count, perSecond: count / seconds });
  const rate = (passes: number, total: number): MetricValue => ({ type: 'rate', passes, total });

  return {
    value(metric: MetricName, tags: Partial<Record<TagName, string>>): MetricValue {
      if (metric === 'received' || metric === 'backend_share' || metric === 'peak_connections') {
        const backends = tags.backend ? result.backends.filter((b) => b.name === tags.backend) : result.backends;
        const received = backends.reduce((s, b) => s + b.received, 0);
        if (metric === 'received') return counter(received);
        if (metric === 'peak_connections') return { type: 'gauge', value: backends.length ? Math.max(...backends.map((b) => b.peakConnections)) : null };
        return rate(received, result.backends.reduce((s, b) => s + b.received, 0));
      }
      const actors = result.actors.filter((a) => (!tags.actor || a.name === tags.actor) && (!tags.kind || a.kind === tags.kind));
      const sum = (f: (a: ActorLedger) => number) => actors.reduce((s, a) => s + f(a), 0);
      const attempted = sum((a) => a.messages.attempted);
      const latencies = () => actors.flatMap((a) => a.latencies).sort((x, y) => x - y);
      // untagged lost/duplicates are the ledger's totals (they include smuggled and unconfirmed copies)
      const untagged = !tags.actor && !tags.kind;
      switch (metric) {
        case 'attempted':
        case 'accepted':
        case 'delivered':
        case 'deferred':
        case 'rejected':
        case 'abandoned':
          return counter(sum((a) => a.messages[metric]));
        case 'lost':
          return counter(untagged ? result.ledger.lost : sum((a) => a.messages.lost));
        case 'duplicates':
          return counter(untagged ? result.ledger.duplicates : sum((a) => a.messages.duplicates));
        case 'delivered_ratio':
          return rate(sum((a) => a.messages.delivered), attempted);
        case 'accepted_ratio':
          return rate(sum((a) => a.messages.accepted), attempted);
        case 'deferred_ratio':
          return rate(sum((a) => a.messages.deferred), attempted);
        case 'rejected_ratio':
          return rate(sum((a) => a.messages.rejected), attempted);
        case 'abandoned_ratio':
          return rate(sum((a) => a.messages.abandoned), attempted);
        case 'in_flight':
          return counter(sum((a) => a.messages.inFlight));
        case 'delivered_bytes':
          return counter(sum((a) => a.bytesDelivered));
        case 'latency':
          return { type: 'trend', values: latencies() };
        case 'latency_p50':
          return { type: 'gauge', value: percentile(latencies(), 50) };
        case 'latency_p95':
          return { type: 'gauge', value: percentile(latencies(), 95) };
        case 'latency_p99':
          return { type: 'gauge', value: percentile(latencies(), 99) };
        case 'connections_attempted':
          return counter(sum((a) => a.connections.attempted));
        case 'connections_refused':
          return counter(sum((a) => a.connections.refused));
        case 'connections_greeted':
          return counter(sum((a) => a.connections.greeted));
        case 'connections_refused_ratio':
          return rate(sum((a) => a.connections.refused), sum((a) => a.connections.attempted));
        case 'connections_greeted_ratio':
          return rate(sum((a) => a.connections.greeted), sum((a) => a.connections.attempted));
        case 'relay_probes':
          return counter(sum((a) => a.relay.probes));
        case 'relay_accepted':
          return counter(sum((a) => a.relay.accepted));
        case 'smuggling_attempts':
          return counter(sum((a) => a.smuggling.sent));
        case 'smuggled':
          return counter(sum((a) => a.smuggling.smuggled));
      }
    },
  };
}
