// Several proxy instances behind one name (MX records of equal preference): how the
// load spread over them, and whether the per-client limits held across all of them.
// A consumer of the event stream like the ledger: per-instance figures come from the
// proxies' own events and state samples, the per-client concurrency from what the
// clients themselves saw (greeted until closed), which no single proxy can fake.
import type { SimEvent } from './events.ts';

export interface InstanceLoad {
  instance: number;
  /** connections admitted / refused at connect */
  accepted: number;
  refused: number;
  delivered: number;
  /** highest number of open connections in a state sample */
  peakConnections: number;
}

export interface InstancesResult {
  instances: InstanceLoad[];
  /** the most connections one client address held greeted at once, over all instances */
  clientConnectionsMax: number;
  clientConnectionsMaxBy: string | null;
}

export class InstanceLedger {
  private readonly load = new Map<number, InstanceLoad>();
  private readonly open = new Map<string, number>();
  private readonly greeted = new Set<string>();
  private max = 0;
  private maxBy: string | null = null;

  private instance(i: number): InstanceLoad {
    let l = this.load.get(i);
    if (!l) this.load.set(i, (l = { instance: i, accepted: 0, refused: 0, delivered: 0, peakConnections: 0 }));
    return l;
  }

  consume(e: SimEvent): void {
    switch (e.type) {
      case 'proxy.event': {
        if (e.instance < 0) return;
        const data = e.data as { accepted?: boolean; outcome?: string };
        if (e.name === 'connection') this.instance(e.instance)[data.accepted ? 'accepted' : 'refused']++;
        if (e.name === 'transaction' && data.outcome === 'delivered') this.instance(e.instance).delivered++;
        return;
      }
      case 'proxy.state': {
        const active = (e.state as { connections?: { active?: number } } | null)?.connections?.active ?? 0;
        const l = this.instance(e.instance);
        l.peakConnections = Math.max(l.peakConnections, active);
        return;
      }
      case 'conn.greeted': {
        this.greeted.add(`${e.actor}/${e.conn}`);
        const n = (this.open.get(e.client) ?? 0) + 1;
        this.open.set(e.client, n);
        if (n > this.max) {
          this.max = n;
          this.maxBy = e.client;
        }
        return;
      }
      case 'conn.closed': {
        if (!this.greeted.delete(`${e.actor}/${e.conn}`)) return;
        const n = (this.open.get(e.client) ?? 1) - 1;
        if (n <= 0) this.open.delete(e.client);
        else this.open.set(e.client, n);
        return;
      }
    }
  }

  result(): InstancesResult {
    return {
      instances: [...this.load.values()].sort((a, b) => a.instance - b.instance),
      clientConnectionsMax: this.max,
      clientConnectionsMaxBy: this.maxBy,
    };
  }
}
