// The default store: counters in this process's memory.
//
// Rate algorithm: the "sliding window counter" Cloudflare described for its rate
// limiting. Per key only the counts of the current and the previous fixed window are
// kept, and the rate is estimated as previous * (share of the previous window still
// inside the sliding window) + current. Why not a true sliding log: a log needs one
// timestamp per hit, so a limit like 1000/1m costs 1000 entries per client address
// under attack, while the counter is O(1) per key and maps to two Redis INCRs in a
// script. The estimate assumes hits were spread evenly over the previous window; the
// error is small in practice and never lets more than 2x the limit through in any
// window (a property test pins that).
//
// Memory: entries whose windows have both expired, and concurrency keys back at zero,
// are deleted. Expired rate entries are swept without a timer, after max(sweepEvery,
// keys left by the previous sweep) operations, so a sweep costs O(1) amortized per
// operation and the map holds at most about twice the keys active in the last two
// windows (or 2 x sweepEvery), however many client addresses have come and gone.
import type { AcquireResult, Clock, CounterStore, HitResult } from './store.ts';

interface Window {
  windowMs: number;
  /** Start of the current fixed window. */
  start: number;
  current: number;
  previous: number;
}

export interface MemoryStoreOptions {
  /** Minimum number of operations between two sweeps of expired keys. */
  sweepEvery?: number;
  /** Remembered values and counters kept at most (greylisting triplets); past it the least recently used go. */
  maxValues?: number;
}

interface Kept {
  value: number;
  until: number;
}

export class MemoryStore implements CounterStore {
  private readonly windows = new Map<string, Window>();
  private readonly slots = new Map<string, number>();
  /** remembered values and counters, least recently used first */
  private readonly kept = new Map<string, Kept>();
  private readonly maxValues: number;
  private readonly sweepEvery: number;
  private opsSinceSweep = 0;
  private sweepAfter: number;

  constructor(
    private readonly clock: Clock,
    options: MemoryStoreOptions = {},
  ) {
    this.sweepEvery = options.sweepEvery ?? 1024;
    this.maxValues = options.maxValues ?? 100_000;
    this.sweepAfter = this.sweepEvery;
  }

  /** Concurrency slots held in all (every key): what a drained proxy gives back to zero. */
  get heldSlots(): number {
    let n = 0;
    for (const v of this.slots.values()) n += v;
    return n;
  }

  async hit(key: string, limit: number, windowMs: number, cost = 1): Promise<HitResult> {
    this.tick();
    const now = this.clock();
    const start = Math.floor(now / windowMs) * windowMs;
    let w = this.windows.get(key);
    if (!w || w.windowMs !== windowMs) {
      // a new key, or the limit's window changed on reload: start counting afresh
      w = { windowMs, start, current: 0, previous: 0 };
      this.windows.set(key, w);
    } else if (w.start !== start) {
      w.previous = w.start === start - windowMs ? w.current : 0;
      w.current = 0;
      w.start = start;
    }
    const previousWeight = 1 - (now - start) / windowMs;
    const estimate = w.previous * previousWeight + w.current;
    if (estimate + cost <= limit + 1e-9) {
      w.current += cost;
      return { allowed: true, count: roundCount(estimate + cost), retryAfterMs: 0 };
    }
    return { allowed: false, count: roundCount(estimate), retryAfterMs: retryAfter(w, now, limit, cost) };
  }

  async acquire(key: string, limit: number): Promise<AcquireResult> {
    this.tick();
    const held = this.slots.get(key) ?? 0;
    if (held >= limit) return { allowed: false, current: held };
    this.slots.set(key, held + 1);
    return { allowed: true, current: held + 1 };
  }

  async release(key: string): Promise<void> {
    this.tick();
    const held = this.slots.get(key) ?? 0;
    if (held <= 1) this.slots.delete(key);
    else this.slots.set(key, held - 1);
  }

  async current(key: string): Promise<number> {
    return this.slots.get(key) ?? 0;
  }

  async remember(key: string, value: number, ttlMs: number): Promise<number> {
    const kept = this.live(key);
    return this.keep(key, kept ? kept.value : value, ttlMs);
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    return this.keep(key, (this.live(key)?.value ?? 0) + 1, ttlMs);
  }

  async count(key: string): Promise<number> {
    return this.live(key)?.value ?? 0;
  }

  private live(key: string): Kept | undefined {
    const k = this.kept.get(key);
    if (k && k.until <= this.clock()) {
      this.kept.delete(key);
      return undefined;
    }
    return k;
  }

  private keep(key: string, value: number, ttlMs: number): number {
    this.kept.delete(key);
    this.kept.set(key, { value, until: this.clock() + ttlMs });
    while (this.kept.size > this.maxValues) this.kept.delete(this.kept.keys().next().value!);
    return value;
  }

  async close(): Promise<void> {
    this.windows.clear();
    this.slots.clear();
    this.kept.clear();
  }

  /** Keys held in memory (rate windows, concurrency counters, remembered values): for tests and /state. */
  get size(): number {
    return this.windows.size + this.slots.size + this.kept.size;
  }

  private tick(): void {
    if (++this.opsSinceSweep < this.sweepAfter) return;
    this.opsSinceSweep = 0;
    const now = this.clock();
    for (const [key, w] of this.windows) {
      // after two full windows both counts are outside any sliding window
      if (now >= w.start + 2 * w.windowMs) this.windows.delete(key);
    }
    // the next sweep waits as many operations as keys survived: each sweep is paid for
    // by the operations before it, and at most that many new keys arrive meanwhile
    this.sweepAfter = Math.max(this.sweepEvery, this.windows.size);
  }
}

// The count is an estimate with a fractional part; callers show it to people.
function roundCount(n: number): number {
  return Math.ceil(n - 1e-9);
}

/** Time until estimate + cost <= limit, if nobody else hits the key meanwhile. */
function retryAfter(w: Window, now: number, limit: number, cost: number): number {
  const W = w.windowMs;
  // a hit bigger than the limit never fits; point at the moment the key is empty
  if (cost > limit) return w.start + 2 * W - now;
  const room = limit - cost - w.current;
  if (room >= 0) {
    // fits in this window once enough of the previous window has slid out
    const at = w.start + W * (1 - room / w.previous);
    return Math.max(1, Math.ceil(at - now));
  }
  // the current window alone is over: wait until it becomes the previous one and slides out far enough
  const at = w.start + W + W * (1 - (limit - cost) / w.current);
  return Math.max(1, Math.ceil(at - now));
}
