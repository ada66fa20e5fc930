// Per-second series of a run, for the charts of the TUI and of report.html.
// Counters (bytes, messages, refusals) add up within a second; levels
// (connections, limits) keep the last value seen and carry it forward.
import { percentile } from '../../simulator/thresholds.ts';

export const BUCKET_MS = 1000;

/** One counter per second. */
class Counts {
  readonly values: number[] = [];
  add(second: number, n = 1): void {
    while (this.values.length <= second) this.values.push(0);
    this.values[second] += n;
  }
  upTo(seconds: number): number[] {
    return Array.from({ length: seconds }, (_, i) => this.values[i] ?? 0);
  }
}

/** The highest value seen in each second, 0 where none was. */
class Peak {
  private readonly values: number[] = [];
  raise(second: number, value: number): void {
    while (this.values.length <= second) this.values.push(0);
    this.values[second] = Math.max(this.values[second], value);
  }
  upTo(seconds: number): number[] {
    return Array.from({ length: seconds }, (_, i) => this.values[i] ?? 0);
  }
}

/** One level per second: the last value seen in that second, carried forward. */
class Level {
  private readonly values: Array<number | undefined> = [];
  set(second: number, value: number): void {
    this.values[second] = value;
  }

  upTo(seconds: number): Array<number | null> {
    const out: Array<number | null> = [];
    let last: number | null = null;
    for (let i = 0; i < seconds; i++) {
      if (this.values[i] !== undefined) last = this.values[i]!;
      out.push(last);
    }
    return out;
  }
  get seen(): boolean {
    return this.values.some((v) => v !== undefined);
  }
}

function keyed<T>(map: Map<string, T>, key: string, make: () => T): T {
  let v = map.get(key);
  if (!v) map.set(key, (v = make()));
  return v;
}

export class Timeline {
  /** bytes of mail the target accepted (250 on the final dot), by the second it was accepted */
  readonly accepted = new Counts();
  /** bytes the proxy's throttle held back (its throttle samples) */
  readonly throttled = new Counts();
  /** the most clients the throttle held back in one sample of that second */
  readonly throttledClients = new Peak();
  readonly proxyConnections = new Level();
  readonly proxyMax = new Level();
  /** connections open as the senders see them (greeted, not yet closed) */
  readonly clientConnections = new Level();
  /** the most connections one client address holds open (greeted, not yet closed) */
  readonly clientPeak = new Level();
  readonly received = new Map<string, Counts>();
  readonly refusals = new Map<string, Counts>();
  /** delivery latency samples of legitimate mail, per second of receipt */
  private readonly latency: number[][] = [];
  seconds = 0;

  static second(t: number): number {
    return Math.max(0, Math.floor(t / BUCKET_MS));
  }

  /** Extends the timeline to cover `t`. */
  reach(t: number): number {
    const s = Timeline.second(t);
    this.seconds = Math.max(this.seconds, s + 1);
    return s;
  }

  receivedBy(backend: string): Counts {
    return keyed(this.received, backend, () => new Counts());
  }

  refusedFor(reason: string): Counts {
    return keyed(this.refusals, reason, () => new Counts());
  }

  throttleSample(t: number, bytes: number, clients: number): void {
    const s = this.reach(t);
    this.throttled.add(s, bytes);
    this.throttledClients.raise(s, clients);
  }

  latencySample(t: number, ms: number): void {
    const s = this.reach(t);
    while (this.latency.length <= s) this.latency.push([]);
    this.latency[s].push(ms);
  }

  /** p50 and p95 of the latencies measured in each second (null where nothing was delivered). */
  latencyPercentiles(): { p50: Array<number | null>; p95: Array<number | null> } {
    const p50: Array<number | null> = [];
    const p95: Array<number | null> = [];
    for (let i = 0; i < this.seconds; i++) {
      const sorted = [...(this.latency[i] ?? [])].sort((a, b) => a - b);
      p50.push(percentile(sorted, 50));
      p95.push(percentile(sorted, 95));
    }
    return { p50, p95 };
  }

  /** Reasons with the most refusals first. */
  topRefusals(limit: number): Array<[string, number[]]> {
    return [...this.refusals]
      .map(([reason, c]): [string, number[], number] => [reason, c.upTo(this.seconds), c.values.reduce((a, b) => a + b, 0)])
      .sort((a, b) => b[2] - a[2])
      .slice(0, limit)
      .map(([reason, values]) => [reason, values]);
  }
}
