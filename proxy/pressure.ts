// Defense under pressure, as Postfix's stress mode and postscreen's cache of good
// clients do it. Past `stress.threshold` x connections.max the proxy is under stress:
// timeouts shrink (slow clients are cut sooner), and at the cap the idlest session is
// shed with 421 so a new client gets in instead of being refused; stress ends once the
// count falls below `stress.release` (hysteresis: no flapping at the edge). Clients
// that delivered mail recently are known good: the last `reserve.share` of
// connections.max is theirs, strangers cannot take it.
import type { ProxyConfig } from './config/schema.ts';
import type { ProxyEmitter } from './events.ts';
import { clientKey } from './policy/cidr.ts';
import type { Clock } from './store/store.ts';

/** What pressure needs of a session to judge it. */
export interface Sheddable {
  /** ms the session has waited for its client without progress; 0 while the proxy is the one at work */
  idleFor(now: number): number;
  shed(): void;
}

/** A session that idled less than this is never shed: it is in the middle of something. */
const MIN_IDLE_TO_SHED_MS = 1000;

/** Addresses that delivered mail, each remembered for `remember` ms; at most `size`, the oldest go first. */
export class KnownClients {
  private readonly until = new Map<string, number>();

  constructor(private readonly limits: () => { remember: number; size: number }) {}

  remember(ip: string, now: number): void {
    const key = clientKey(ip);
    const { remember, size } = this.limits();
    if (size <= 0) return;
    this.until.delete(key);
    this.until.set(key, now + remember);
    while (this.until.size > size) this.until.delete(this.until.keys().next().value!);
  }

  has(ip: string, now: number): boolean {
    const key = clientKey(ip);
    const t = this.until.get(key);
    if (t === undefined) return false;
    if (t > now) return true;
    this.until.delete(key);
    return false;
  }

  get size(): number {
    return this.until.size;
  }
}

export class Pressure {
  active = false;
  private since = 0;
  shedCount = 0;
  readonly known: KnownClients;

  constructor(
    private readonly config: () => ProxyConfig,
    private readonly events: ProxyEmitter,
    private readonly clock: Clock = Date.now,
  ) {
    this.known = new KnownClients(() => this.config().connections.reserve);
  }

  /** Stress begins at threshold x max connections and ends below release x max. */
  update(connections: number): void {
    const { max, stress } = this.config().connections;
    const on = stress.enabled && (this.active ? connections >= stress.release * max : connections >= stress.threshold * max);
    if (on === this.active) return;
    this.active = on;
    this.since = this.clock();
    this.events.emit('stress', { active: on, connections, max });
  }

  idleTimeout(): number {
    const c = this.config().connections;
    return this.active ? Math.min(c.idleTimeout, c.stress.idleTimeout) : c.idleTimeout;
  }

  commandDeadline(): number {
    const c = this.config().connections;
    return this.active ? Math.min(c.commandDeadline, c.stress.commandDeadline) : c.commandDeadline;
  }

  /**
   * At the cap under stress: the session that has waited longest for its client (a
   * slowloris dripping bytes, a bot holding a connection) goes, so the new client gets
   * its place. False when nobody is idle enough to be shed.
   */
  shedIdlest(sessions: Iterable<Sheddable>): boolean {
    if (!this.active) return false;
    const now = this.clock();
    let victim: Sheddable | null = null;
    let longest = MIN_IDLE_TO_SHED_MS - 1;
    for (const s of sessions) {
      const idle = s.idleFor(now);
      if (idle > longest) {
        longest = idle;
        victim = s;
      }
    }
    if (!victim) return false;
    this.shedCount++;
    victim.shed();
    return true;
  }

  delivered(ip: string): void {
    this.known.remember(ip, this.clock());
  }

  knownGood(ip: string): boolean {
    return this.known.has(ip, this.clock());
  }

  snapshot() {
    const { max, stress, reserve } = this.config().connections;
    return {
      active: this.active,
      sinceMs: this.active ? this.clock() - this.since : null,
      threshold: Math.ceil(stress.threshold * max),
      release: Math.ceil(stress.release * max),
      shed: this.shedCount,
      knownClients: this.known.size,
      reserved: max - Math.max(1, Math.floor(max * (1 - reserve.share))),
    };
  }
}
