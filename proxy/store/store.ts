// The shared-state contract of the limits. Every operation is async and atomic so a
// Redis implementation (one Lua script per operation) can stand in for the in-memory
// one when several proxy instances must share the same counters (DESIGN.md `store:`).

/** Milliseconds since some epoch; injected so limits can be tested without waiting. */
export type Clock = () => number;

export interface HitResult {
  allowed: boolean;
  /** Hits counted in the window after this call (the estimate the decision was made on). */
  count: number;
  /** When refused: how long until the same hit would fit, assuming no other hits. 0 when allowed. */
  retryAfterMs: number;
}

export interface AcquireResult {
  allowed: boolean;
  /** Slots held for the key after this call. */
  current: number;
}

export interface CounterStore {
  /**
   * Rate counter: records `cost` hits for key if the total within windowMs stays <= limit;
   * a refused hit is not recorded, so a client that backs off gets through again. Atomic.
   */
  hit(key: string, limit: number, windowMs: number, cost?: number): Promise<HitResult>;
  /** Concurrency counter: takes one slot for key if fewer than limit are held. Atomic. */
  acquire(key: string, limit: number): Promise<AcquireResult>;
  /** Frees one slot taken by acquire; never goes below zero. */
  release(key: string): Promise<void>;
  /** Slots held for key. */
  current(key: string): Promise<number>;
  /**
   * Keeps `value` under `key` unless a value is there already; either way the key lives
   * `ttlMs` longer (it expires when not asked about for that long). Returns the value
   * kept: the first one. Atomic. (Greylisting's "first seen" of a triplet.)
   */
  remember(key: string, value: number, ttlMs: number): Promise<number>;
  /** Adds one to a counter that lives `ttlMs` after its last change; returns the new count. Atomic. */
  increment(key: string, ttlMs: number): Promise<number>;
  /** A counter's value, 0 when there is none. */
  count(key: string): Promise<number>;
  close(): Promise<void>;
  /** Resolves when a remote store is connected; rejects when it cannot be reached at start. */
  ready?(): Promise<void>;
}
