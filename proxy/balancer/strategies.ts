// Load-balancing strategies. Each picks one backend among the eligible ones (up,
// not already tried for this transaction); failover asks again with the failed
// ones excluded, so every strategy is also a failover order.
import { createHash } from 'node:crypto';
import type { Strategy } from '../config/schema.ts';
import type { Backend } from './backend.ts';

export interface PickContext {
  sender: string;
  clientIp: string;
}

export interface Picker {
  pick(eligible: Backend[], ctx: PickContext): Backend | undefined;
}

class RoundRobin implements Picker {
  private next = 0;
  pick(eligible: Backend[]): Backend | undefined {
    if (!eligible.length) return undefined;
    return eligible[this.next++ % eligible.length];
  }
}

/** nginx's smooth weighted round-robin: weights 1:1:2 give a b c c spread evenly, not a a b c c in runs. */
class SmoothWeighted implements Picker {
  pick(eligible: Backend[]): Backend | undefined {
    let total = 0;
    let best: Backend | undefined;
    for (const b of eligible) {
      if (b.weight <= 0) continue;
      b.currentWeight += b.weight;
      total += b.weight;
      if (!best || b.currentWeight > best.currentWeight) best = b;
    }
    if (!best) return eligible[0];
    best.currentWeight -= total;
    return best;
  }
}

/** Fewest transactions in flight relative to weight; ties go round-robin so idle backends share the start. */
class LeastConnections implements Picker {
  private rr = 0;
  pick(eligible: Backend[]): Backend | undefined {
    if (!eligible.length) return undefined;
    const offset = this.rr++;
    let best: Backend | undefined;
    let bestLoad = Infinity;
    for (let i = 0; i < eligible.length; i++) {
      const b = eligible[(i + offset) % eligible.length];
      const load = b.active / Math.max(b.weight, 1);
      if (load < bestLoad) {
        best = b;
        bestLoad = load;
      }
    }
    return best;
  }
}

/**
 * Rendezvous (highest random weight) hashing: the same key keeps its backend while
 * that backend is up, and when it fails only its keys move.
 */
class RendezvousHash implements Picker {
  constructor(private readonly key: (ctx: PickContext) => string) {}
  pick(eligible: Backend[], ctx: PickContext): Backend | undefined {
    const key = this.key(ctx);
    let best: Backend | undefined;
    let bestScore = -1;
    for (const b of eligible) {
      if (b.weight <= 0 && eligible.some((o) => o.weight > 0)) continue;
      const h = createHash('sha1').update(`${b.name}\0${key}`).digest();
      // weighted rendezvous: -w / ln(u), u uniform in (0,1)
      const u = (h.readUInt32BE(0) + 1) / 4294967297;
      const score = Math.max(b.weight, 1e-9) / -Math.log(u);
      if (score > bestScore) {
        best = b;
        bestScore = score;
      }
    }
    return best;
  }
}

export function createPicker(strategy: Strategy): Picker {
  switch (strategy) {
    case 'round-robin':
      return new RoundRobin();
    case 'weighted':
      return new SmoothWeighted();
    case 'least-connections':
      return new LeastConnections();
    case 'hash-sender':
      return new RendezvousHash((ctx) => ctx.sender.toLowerCase());
    case 'hash-client':
      return new RendezvousHash((ctx) => ctx.clientIp);
  }
}
