// DNS reputation as postscreen scores it: the client's address is looked up in every
// configured DNSBL and DNSWL zone at once, each listing adds its weight (DNSWL weights
// are negative), and a score at or over `threshold` refuses the client with 554 (or,
// with `action: tag`, marks its messages). A zone that does not answer in time counts
// as not listing the client, and is counted: a DNS failure never blocks mail. Every
// address is looked up, loopback and private ones included (the lab's clients are
// all 127.x); verdicts are cached for `cache`.
import ipaddr from 'ipaddr.js';
import type { ProxyConfig } from './config/schema.ts';
import type { Dns } from './dns.ts';
import type { ProxyEmitter } from './events.ts';
import { clientKey } from './policy/cidr.ts';
import type { Clock } from './store/store.ts';

export interface ReputationVerdict {
  score: number;
  /** zones that listed the client (blocklists and allowlists alike) */
  listedBy: string[];
  /** zones whose lookup failed or timed out */
  failed: string[];
}

/** Verdicts kept at most; past it the cache starts over (a flood of addresses costs a bounded memory). */
const MAX_CACHED = 10_000;

/** The name a DNS list is asked for `ip` in `zone`: reversed octets (IPv4) or nibbles (IPv6). */
export function listName(ip: string, zone: string): string {
  const addr = ipaddr.process(ip);
  const bytes = addr.toByteArray();
  const labels = addr.kind() === 'ipv4' ? bytes.map(String) : bytes.flatMap((b) => [(b >> 4).toString(16), (b & 15).toString(16)]);
  return `${labels.reverse().join('.')}.${zone}`;
}

export class Reputation {
  private readonly cache = new Map<string, { verdict: ReputationVerdict; until: number }>();

  constructor(
    private readonly config: () => ProxyConfig,
    private readonly dns: Dns,
    private readonly events: ProxyEmitter,
    private readonly clock: Clock = Date.now,
  ) {}

  /** Whether any zone is configured (no lookups otherwise). */
  get enabled(): boolean {
    const r = this.config().reputation;
    return r.dnsbl.length + r.dnswl.length > 0;
  }

  async judge(ip: string): Promise<ReputationVerdict> {
    const r = this.config().reputation;
    const key = clientKey(ip);
    const now = this.clock();
    const hit = this.cache.get(key);
    if (hit && hit.until > now) return hit.verdict;
    const zones = [...r.dnsbl, ...r.dnswl];
    const answers = await Promise.all(zones.map((z) => this.dns.addresses(listName(ip, z.zone))));
    const verdict: ReputationVerdict = { score: 0, listedBy: [], failed: [] };
    zones.forEach((z, i) => {
      const a = answers[i];
      if (a === 'failed') verdict.failed.push(z.zone);
      const listed = Array.isArray(a) && (!z.answers || a.some((x) => z.answers!.includes(x)));
      if (listed) {
        verdict.score += z.weight;
        verdict.listedBy.push(z.zone);
      }
      this.events.emit('dns-list', { zone: z.zone, result: a === 'failed' ? 'failed' : listed ? 'listed' : 'clean' });
    });
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(key, { verdict, until: now + r.cache });
    return verdict;
  }

  /** The verdict as a refusal detail or a tag: "listed by a.test, b.test: score 4 >= 3". */
  describe(v: ReputationVerdict): string {
    return `listed by ${v.listedBy.join(', ')}: score ${v.score} >= ${this.config().reputation.threshold}`;
  }

  refuses(v: ReputationVerdict): boolean {
    return v.listedBy.length > 0 && v.score >= this.config().reputation.threshold;
  }
}
