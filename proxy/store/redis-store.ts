// Limit counters in Redis, so several proxy instances enforce one per-client limit
// together (`store: redis://HOST:PORT/DB`). Each operation is one Lua script, atomic
// on the server, timed by the server's clock (TIME) so instances with skewed clocks
// still agree on the windows.
//
// Rates use the same sliding window counter as MemoryStore (two fixed-window counts).
// Concurrency slots are members of a sorted set scored by an expiry time that the
// holding instance renews every `slotTtlMs / 3`: an instance that dies stops renewing
// and its slots fall out within `slotTtlMs`, so a crashed node never locks clients out.
//
// Redis unreachable: every call fails fast (no offline queue, short command timeout).
// `failMode: open` then counts in this process's memory (logged and counted),
// `failMode: closed` throws StoreUnavailableError (the proxy answers 421). ioredis
// keeps reconnecting; when Redis is back, calls go there again.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { MemoryStore } from './memory-store.ts';
import type { ErrorCode } from '../errors.ts';
import type { AcquireResult, Clock, CounterStore, HitResult } from './store.ts';

export class StoreUnavailableError extends Error {
  readonly code: ErrorCode = 'ESTORE';
}

export interface RedisStoreOptions {
  url: string;
  failMode: 'open' | 'closed';
  /** How long a slot lives without renewal (a crashed instance's slots heal within it). */
  slotTtlMs?: number;
  commandTimeoutMs?: number;
  /** Told once per outage and once per recovery. */
  onStateChange?: (available: boolean, error?: string) => void;
  clock?: Clock;
}

const HIT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local W = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local start = math.floor(now / W) * W
local curKey = KEYS[1] .. ':' .. start
local cur = tonumber(redis.call('GET', curKey) or '0')
local prev = tonumber(redis.call('GET', KEYS[1] .. ':' .. (start - W)) or '0')
local est = prev * (1 - (now - start) / W) + cur
if est + cost <= limit + 1e-9 then
  redis.call('INCRBY', curKey, cost)
  redis.call('PEXPIRE', curKey, 2 * W)
  return {1, tostring(est + cost), 0}
end
local retry
if cost > limit then
  retry = start + 2 * W - now
else
  local room = limit - cost - cur
  if room >= 0 then
    retry = start + W * (1 - room / prev) - now
  else
    retry = start + W + W * (1 - (limit - cost) / cur) - now
  end
end
return {0, tostring(est), math.max(1, math.ceil(retry))}
`;

const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local n = redis.call('ZCARD', KEYS[1])
if n >= tonumber(ARGV[1]) then return {0, n} end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return {1, n + 1}
`;

const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', now + ttl, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
`;

const CURRENT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZCOUNT', KEYS[1], now, '+inf')
`;

const REMEMBER = `
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], ARGV[1])
  v = ARGV[1]
end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return v
`;

const INCREMENT = `
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
return n
`;

type Scripted = Redis & {
  attitudeRemember(key: string, value: number, ttl: number): Promise<string>;
  attitudeIncrement(key: string, ttl: number): Promise<number>;
  attitudeHit(key: string, limit: number, windowMs: number, cost: number): Promise<[number, string, number]>;
  attitudeAcquire(key: string, limit: number, member: string, ttl: number): Promise<[number, number]>;
  attitudeRenew(key: string, ttl: number, ...members: string[]): Promise<number>;
  attitudeCurrent(key: string): Promise<number>;
};

/** A slot this instance holds: in Redis (member) or, while Redis was away, in memory. */
type Held = { where: 'redis'; member: string } | { where: 'memory' };

export class RedisStore implements CounterStore {
  private readonly redis: Scripted;
  private readonly fallback: MemoryStore;
  private readonly held = new Map<string, Held[]>();
  private readonly instance = randomBytes(6).toString('hex');
  private readonly slotTtlMs: number;
  private readonly renewTimer: NodeJS.Timeout;
  private slotSeq = 0;
  available = true;
  /** Operations answered from memory because Redis was unreachable. */
  fallbacks = 0;

  constructor(private readonly o: RedisStoreOptions) {
    this.slotTtlMs = o.slotTtlMs ?? 30_000;
    this.fallback = new MemoryStore(o.clock ?? Date.now);
    this.redis = new Redis(o.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: o.commandTimeoutMs ?? 500,
      connectTimeout: 2000,
      lazyConnect: false,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    }) as Scripted;
    this.redis.on('error', () => {}); // reported through onStateChange when an operation fails
    this.redis.defineCommand('attitudeHit', { numberOfKeys: 1, lua: HIT });
    this.redis.defineCommand('attitudeAcquire', { numberOfKeys: 1, lua: ACQUIRE });
    this.redis.defineCommand('attitudeRenew', { numberOfKeys: 1, lua: RENEW });
    this.redis.defineCommand('attitudeCurrent', { numberOfKeys: 1, lua: CURRENT });
    this.redis.defineCommand('attitudeRemember', { numberOfKeys: 1, lua: REMEMBER });
    this.redis.defineCommand('attitudeIncrement', { numberOfKeys: 1, lua: INCREMENT });
    this.renewTimer = setInterval(() => void this.renew(), Math.max(50, Math.floor(this.slotTtlMs / 3)));
    this.renewTimer.unref();
  }

  /** Resolves once connected (or rejects after the connect timeout): for startup checks and tests. */
  ready(): Promise<void> {
    if (this.redis.status === 'ready') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new StoreUnavailableError(`redis at ${this.o.url} is not reachable`)), 3000);
      this.redis.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private async run<T>(redisCall: () => Promise<T>, memoryCall: () => Promise<T>): Promise<{ value: T; where: 'redis' | 'memory' }> {
    try {
      const value = await redisCall();
      if (!this.available) {
        this.available = true;
        this.o.onStateChange?.(true);
      }
      return { value, where: 'redis' };
    } catch (err) {
      if (this.available) {
        this.available = false;
        this.o.onStateChange?.(false, (err as Error).message);
      }
      if (this.o.failMode === 'closed') throw new StoreUnavailableError(`limit store unavailable: ${(err as Error).message}`);
      this.fallbacks++;
      return { value: await memoryCall(), where: 'memory' };
    }
  }

  async hit(key: string, limit: number, windowMs: number, cost = 1): Promise<HitResult> {
    const { value } = await this.run(
      async () => {
        const [allowed, count, retry] = await this.redis.attitudeHit(`attitude:rate:{${key}}`, limit, windowMs, cost);
        return { allowed: allowed === 1, count: Math.ceil(Number(count) - 1e-9), retryAfterMs: Number(retry) };
      },
      () => this.fallback.hit(key, limit, windowMs, cost),
    );
    return value;
  }

  async acquire(key: string, limit: number): Promise<AcquireResult> {
    const member = `${this.instance}:${++this.slotSeq}`;
    const { value, where } = await this.run(
      async () => {
        const [allowed, current] = await this.redis.attitudeAcquire(this.slotKey(key), limit, member, this.slotTtlMs);
        return { allowed: allowed === 1, current };
      },
      () => this.fallback.acquire(key, limit),
    );
    if (value.allowed) {
      const list = this.held.get(key) ?? [];
      list.push(where === 'redis' ? { where, member } : { where });
      this.held.set(key, list);
    }
    return value;
  }

  async release(key: string): Promise<void> {
    const list = this.held.get(key);
    const slot = list?.pop();
    if (list && list.length === 0) this.held.delete(key);
    if (!slot) return;
    if (slot.where === 'memory') return this.fallback.release(key);
    // if Redis is away the slot expires by itself: nothing renews it any more
    await this.redis.zrem(this.slotKey(key), slot.member).catch(() => {});
  }

  async current(key: string): Promise<number> {
    const { value } = await this.run(
      () => this.redis.attitudeCurrent(this.slotKey(key)),
      () => this.fallback.current(key),
    );
    return value;
  }

  async remember(key: string, value: number, ttlMs: number): Promise<number> {
    const { value: kept } = await this.run(
      async () => Number(await this.redis.attitudeRemember(this.valueKey(key), value, ttlMs)),
      () => this.fallback.remember(key, value, ttlMs),
    );
    return kept;
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    const { value } = await this.run(
      () => this.redis.attitudeIncrement(this.valueKey(key), ttlMs),
      () => this.fallback.increment(key, ttlMs),
    );
    return value;
  }

  async count(key: string): Promise<number> {
    const { value } = await this.run(
      async () => Number((await this.redis.get(this.valueKey(key))) ?? 0),
      () => this.fallback.count(key),
    );
    return value;
  }

  private valueKey(key: string): string {
    return `attitude:value:{${key}}`;
  }

  private slotKey(key: string): string {
    return `attitude:slots:{${key}}`;
  }

  /** Keeps this instance's slots alive; slots of a dead instance expire. */
  private async renew(): Promise<void> {
    if (this.redis.status !== 'ready') return;
    const pipeline = this.redis.pipeline();
    let n = 0;
    for (const [key, list] of this.held) {
      const members = list.filter((h): h is Extract<Held, { where: 'redis' }> => h.where === 'redis').map((h) => h.member);
      if (!members.length) continue;
      (pipeline as unknown as Scripted).attitudeRenew(this.slotKey(key), this.slotTtlMs, ...members);
      n++;
    }
    if (n) await pipeline.exec().catch(() => {});
  }

  async close(): Promise<void> {
    clearInterval(this.renewTimer);
    // give back what this instance holds, so a restart does not wait for expiry
    await Promise.all([...this.held.keys()].flatMap((key) => (this.held.get(key) ?? []).map(() => this.release(key))));
    await this.fallback.close();
    this.redis.disconnect();
  }
}
