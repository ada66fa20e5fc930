// Bandwidth limits as token buckets (one token = one byte).
//
// TokenBucket is pure arithmetic: take(n) says how long to wait. It lets the bucket go
// into debt, so a caller that got "wait 40ms" can pass its chunk after exactly 40ms
// without asking again, and a chunk larger than the burst still passes (it only waits
// longer). The per-client throttle stage pauses the client socket for that long.
//
// GlobalBandwidth shares one bucket among all clients. A pure delayFor() would hand
// the bytes to whoever asks first, so one client writing big chunks in a loop would
// starve the others. Fairness needs to know who is waiting, so it is an async
// consume(clientKey, bytes) with an injected timer: whenever tokens are available they
// are split evenly among the clients waiting at that moment (round-robin, a client's
// queued requests served in order), so each waiting client gets its fair share per tick.
import type { Clock } from '../store/store.ts';

export class TokenBucket {
  private tokens: number;
  private last: number;

  /** @param rate bytes per second @param burst bucket size in bytes (what may pass at once after a pause) */
  constructor(
    private rate: number,
    private burst: number,
    private readonly clock: Clock,
  ) {
    if (!(rate > 0) || !(burst > 0)) throw new RangeError('token bucket rate and burst must be > 0');
    this.tokens = burst;
    this.last = clock();
  }

  /** Takes n bytes; returns ms to wait before they may pass (0: now). May leave the bucket in debt. */
  take(n: number): number {
    this.refill();
    this.tokens -= n;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.rate) * 1000);
  }

  /** Bytes that may pass right now (0 while in debt). */
  available(): number {
    this.refill();
    return Math.max(0, Math.floor(this.tokens));
  }

  /** For a config reload: keeps the current fill (capped at the new burst). */
  configure(rate: number, burst: number): void {
    this.refill();
    this.rate = rate;
    this.burst = burst;
    this.tokens = Math.min(this.tokens, burst);
  }

  private refill(): void {
    const now = this.clock();
    if (now > this.last) this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
  }
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface GlobalBandwidthOptions {
  /** bytes per second for all clients together */
  rate: number;
  /** default: rate / 10 (100ms worth of bytes) */
  burst?: number;
  clock: Clock;
  timers?: Timers;
  /** how often waiting clients are served, ms (default 10) */
  tickMs?: number;
}

interface Request {
  remaining: number;
  resolve: () => void;
  reject: (err: unknown) => void;
  cleanup?: () => void;
}

export class GlobalBandwidth {
  private readonly bucket: TokenBucket;
  /** waiting requests per client; Map order is the round-robin order */
  private readonly queues = new Map<string, Request[]>();
  private readonly timers: Timers;
  private readonly tickMs: number;
  private timer: unknown = null;

  constructor(o: GlobalBandwidthOptions) {
    this.bucket = new TokenBucket(o.rate, o.burst ?? Math.max(1, o.rate / 10), o.clock);
    this.timers = o.timers ?? realTimers;
    this.tickMs = o.tickMs ?? 10;
  }

  /** Resolves when `bytes` of the global budget are granted to clientKey; rejects if signal aborts first. */
  consume(clientKey: string, bytes: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    // fast path only when nobody waits, so a newcomer never jumps the queue
    if (this.queues.size === 0 && this.bucket.available() >= bytes) {
      this.bucket.take(bytes);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const req: Request = { remaining: bytes, resolve, reject };
      if (signal) {
        const onAbort = () => this.drop(clientKey, req, signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        req.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      const queue = this.queues.get(clientKey);
      if (queue) queue.push(req);
      else this.queues.set(clientKey, [req]);
      this.pump();
    });
  }

  /** Clients with bytes waiting. */
  waiting(): number {
    return this.queues.size;
  }

  /** Releases every waiter (shutdown): data may flow unthrottled rather than hang. */
  close(): void {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    for (const queue of this.queues.values()) for (const req of queue) this.finish(req);
    this.queues.clear();
  }

  private pump(): void {
    let tokens = this.bucket.available();
    while (tokens > 0 && this.queues.size > 0) {
      // one round: every waiting client gets an equal share of what is there
      const share = Math.max(1, Math.floor(tokens / this.queues.size));
      for (const [key, queue] of [...this.queues]) {
        if (tokens <= 0) break;
        let grant = Math.min(share, tokens);
        tokens -= grant;
        this.bucket.take(grant);
        while (grant > 0 && queue.length > 0) {
          const used = Math.min(grant, queue[0].remaining);
          queue[0].remaining -= used;
          grant -= used;
          if (queue[0].remaining === 0) this.finish(queue.shift()!);
        }
        // served clients go to the back, so leftovers rotate among clients round after round
        this.queues.delete(key);
        if (queue.length > 0) this.queues.set(key, queue);
        // a share bigger than the client needed goes back to the pot for this round
        if (grant > 0) {
          this.bucket.take(-grant);
          tokens += grant;
        }
      }
    }
    if (this.queues.size > 0 && this.timer === null) {
      this.timer = this.timers.setTimeout(() => {
        this.timer = null;
        this.pump();
      }, this.tickMs);
    }
  }

  private finish(req: Request): void {
    req.cleanup?.();
    req.resolve();
  }

  private drop(clientKey: string, req: Request, reason: unknown): void {
    const queue = this.queues.get(clientKey);
    const i = queue ? queue.indexOf(req) : -1;
    if (!queue || i < 0) return;
    queue.splice(i, 1);
    if (queue.length === 0) this.queues.delete(clientKey);
    req.cleanup?.();
    req.reject(reason);
  }
}
