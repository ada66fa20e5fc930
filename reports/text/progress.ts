// Plain progress lines while a run goes (no TUI): one line every few seconds
// with each actor's counts. A subscriber of the event stream, live or replayed.
import { formatAddresses } from '../../simulator/backends.ts';
import type { EventBus } from '../../simulator/events.ts';

export function attachProgress(bus: EventBus, write: (line: string) => void, everyMs = 2000): () => void {
  const counts = new Map<string, { attempted: number; accepted: number; refused: number; conns: number }>();
  const get = (actor: string) => {
    let c = counts.get(actor);
    if (!c) counts.set(actor, (c = { attempted: 0, accepted: 0, refused: 0, conns: 0 }));
    return c;
  };
  let durationMs = 0;
  let warmupMs = 0;
  let last = 0;
  const off = bus.subscribe((e) => {
    switch (e.type) {
      case 'run.start':
        durationMs = e.durationMs;
        write(`attitude: ${e.scenario} (seed ${e.seed}) for ${e.durationMs / 1000}s against ${e.target}`);
        // a proxy under test that asks DNS (reputation, SPF, DMARC) must ask the run's
        if (e.external) write(`  relay to ${formatAddresses(e.backends)}`);
        if (e.dns && e.external) write(`  the scenario's DNS (records, DNSBL listings) answers at ${e.dns}: point the target's DNS lookups there`);
        warmupMs = e.warmupMs ?? 0;
        break;
      case 'run.phase':
        if (e.phase === 'warmup') write(`  warming up ${warmupMs / 1000}s: the mock backends are up, nothing is sent yet`);
        if (e.phase === 'draining') write(`  ${(e.t / 1000).toFixed(0)}s: duration over, draining`);
        break;
      case 'mark':
        write(`  ${(e.t / 1000).toFixed(0)}s: ▶ ${e.title}${e.predict ? ` (predict: ${e.predict})` : ''}`);
        break;
      case 'message.outcome': {
        const c = get(e.actor);
        c.attempted++;
        if (e.outcome === 'accepted') c.accepted++;
        break;
      }
      case 'conn.attempt':
        get(e.actor).conns++;
        break;
      case 'conn.refused':
        get(e.actor).refused++;
        break;
      case 'backend.outage':
        write(`  ${(e.t / 1000).toFixed(0)}s: backend ${e.backend} ${e.state}`);
        break;
      default:
        break;
    }
    if (e.t - last >= everyMs && e.type !== 'run.start') {
      last = e.t;
      const parts = [...counts].map(([a, c]) => `${a} ${c.attempted ? `${c.accepted}/${c.attempted} accepted, ` : ''}${c.refused}/${c.conns} conns refused`);
      write(`  ${(e.t / 1000).toFixed(0)}s/${durationMs / 1000}s  ${parts.join(' | ')}`);
    }
  });
  return off;
}
