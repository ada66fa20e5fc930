import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../proxy/store/memory-store.ts';

function fakeClock(start = 0) {
  const c = { now: start, clock: () => c.now };
  return c;
}

describe('MemoryStore.hit (sliding window counter)', () => {
  it('allows up to the limit within a window and refuses the next hit', async () => {
    const t = fakeClock(0);
    const store = new MemoryStore(t.clock);
    for (let i = 1; i <= 5; i++) {
      const r = await store.hit('k', 5, 1000);
      expect(r).toMatchObject({ allowed: true, count: i, retryAfterMs: 0 });
    }
    const refused = await store.hit('k', 5, 1000);
    expect(refused.allowed).toBe(false);
    expect(refused.count).toBe(5);
    expect(refused.retryAfterMs).toBeGreaterThan(0);
  });

  it('weights the previous window by how much of it is still inside the sliding window', async () => {
    const t = fakeClock(0);
    const store = new MemoryStore(t.clock);
    for (let i = 0; i < 10; i++) expect((await store.hit('k', 10, 1000)).allowed).toBe(true);
    t.now = 1500; // half of the previous window still counts: estimate 5
    for (let i = 0; i < 5; i++) expect((await store.hit('k', 10, 1000)).allowed).toBe(true);
    expect((await store.hit('k', 10, 1000)).allowed).toBe(false);
    t.now = 2999; // almost all of [1000,2000) slid out, 5 left in it weighted ~0
    expect((await store.hit('k', 10, 1000)).allowed).toBe(true);
  });

  it('forgets everything after two windows', async () => {
    const t = fakeClock(0);
    const store = new MemoryStore(t.clock);
    for (let i = 0; i < 3; i++) await store.hit('k', 3, 1000);
    t.now = 2000;
    expect(await store.hit('k', 3, 1000)).toMatchObject({ allowed: true, count: 1 });
  });

  it('does not record refused hits, so a client that backs off gets through', async () => {
    const t = fakeClock(0);
    const store = new MemoryStore(t.clock);
    await store.hit('k', 2, 1000);
    await store.hit('k', 2, 1000);
    for (let i = 0; i < 50; i++) expect((await store.hit('k', 2, 1000)).allowed).toBe(false);
    t.now = 2000;
    expect((await store.hit('k', 2, 1000)).allowed).toBe(true);
  });

  it('charges `cost` hits at once and refuses a cost that does not fit', async () => {
    const t = fakeClock(0);
    const store = new MemoryStore(t.clock);
    expect(await store.hit('k', 10, 1000, 7)).toMatchObject({ allowed: true, count: 7 });
    expect(await store.hit('k', 10, 1000, 4)).toMatchObject({ allowed: false, count: 7 });
    expect(await store.hit('k', 10, 1000, 3)).toMatchObject({ allowed: true, count: 10 });
    expect((await store.hit('other', 10, 1000, 11)).allowed).toBe(false);
  });

  it('keeps keys apart and restarts a key whose window length changed (config reload)', async () => {
    const t = fakeClock(0);
    const store = new MemoryStore(t.clock);
    await store.hit('a', 1, 1000);
    expect((await store.hit('a', 1, 1000)).allowed).toBe(false);
    expect((await store.hit('b', 1, 1000)).allowed).toBe(true);
    expect((await store.hit('a', 1, 5000)).allowed).toBe(true);
  });

  it('retryAfterMs is exact: refused 1ms before, allowed at it (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 10, max: 5000 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 1, max: 3 })), { minLength: 1, maxLength: 60 }),
        async (limit, windowMs, steps) => {
          const t = fakeClock(1_000_000);
          const store = new MemoryStore(t.clock);
          for (const [advance, cost] of steps) {
            t.now += advance;
            const r = await store.hit('k', limit, windowMs, cost);
            if (r.allowed || cost > limit) continue;
            const at = t.now;
            t.now = at + r.retryAfterMs - 1;
            if (r.retryAfterMs > 1) expect((await store.hit('k', limit, windowMs, cost)).allowed).toBe(false);
            t.now = at + r.retryAfterMs;
            expect((await store.hit('k', limit, windowMs, cost)).allowed).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never lets more than twice the limit through in any true sliding window (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 200 }),
        async (limit, gaps) => {
          const windowMs = 1000;
          const t = fakeClock(0);
          const store = new MemoryStore(t.clock);
          const allowedAt: number[] = [];
          for (const gap of gaps) {
            t.now += gap;
            if ((await store.hit('k', limit, windowMs)).allowed) allowedAt.push(t.now);
          }
          for (const start of allowedAt) {
            const inWindow = allowedAt.filter((x) => x >= start && x < start + windowMs).length;
            expect(inWindow).toBeLessThanOrEqual(2 * limit);
          }
        },
      ),
    );
  });
});

describe('MemoryStore.acquire/release (concurrency)', () => {
  it('gives out at most `limit` slots per key and frees them on release', async () => {
    const store = new MemoryStore(() => 0);
    expect(await store.acquire('c', 2)).toEqual({ allowed: true, current: 1 });
    expect(await store.acquire('c', 2)).toEqual({ allowed: true, current: 2 });
    expect(await store.acquire('c', 2)).toEqual({ allowed: false, current: 2 });
    expect(await store.acquire('d', 2)).toEqual({ allowed: true, current: 1 });
    await store.release('c');
    expect(await store.current('c')).toBe(1);
    expect(await store.acquire('c', 2)).toEqual({ allowed: true, current: 2 });
  });

  it('never goes below zero and forgets a key back at zero', async () => {
    const store = new MemoryStore(() => 0);
    await store.release('x');
    expect(await store.current('x')).toBe(0);
    await store.acquire('x', 1);
    await store.release('x');
    await store.release('x');
    expect(await store.current('x')).toBe(0);
    expect(store.size).toBe(0);
    expect((await store.acquire('x', 1)).allowed).toBe(true);
  });

  it('is atomic under concurrent callers', async () => {
    const store = new MemoryStore(() => 0);
    const results = await Promise.all(Array.from({ length: 50 }, () => store.acquire('k', 10)));
    expect(results.filter((r) => r.allowed)).toHaveLength(10);
  });
});

describe('MemoryStore memory bound', () => {
  it('sweeps expired keys without a timer, so many client addresses do not pile up', async () => {
    const t = fakeClock(0);
    const store = new MemoryStore(t.clock, { sweepEvery: 100 });
    let peak = 0;
    // 100k distinct clients, each seen once, 50 new ones per 10ms: ~10k active per 2 windows
    for (let i = 0; i < 100_000; i++) {
      if (i % 50 === 0) t.now += 10;
      await store.hit(`rate:10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 5, 1000);
      peak = Math.max(peak, store.size);
    }
    expect(peak).toBeLessThan(25_000);
    t.now += 3000;
    for (let i = 0; i < 25_000; i++) await store.hit('same', 1e9, 1000);
    expect(store.size).toBeLessThanOrEqual(2);
  });

  it('close() drops all state', async () => {
    const store = new MemoryStore(() => 0);
    await store.hit('a', 1, 1000);
    await store.acquire('b', 1);
    await store.close();
    expect(store.size).toBe(0);
    expect(await store.current('b')).toBe(0);
  });
});

describe('remembered values and counters', () => {
  it('keeps the first value, expires what is not asked about, and keeps at most maxValues', async () => {
    const t = { now: 0 };
    const s = new MemoryStore(() => t.now, { maxValues: 2 });
    expect(await s.remember('a', 1, 100)).toBe(1);
    expect(await s.remember('a', 2, 100)).toBe(1);
    t.now = 90;
    expect(await s.remember('a', 3, 100)).toBe(1); // asked about: lives on
    t.now = 180;
    expect(await s.count('a')).toBe(1);
    t.now = 300;
    expect(await s.count('a')).toBe(0);
    expect(await s.increment('n', 1000)).toBe(1);
    expect(await s.increment('n', 1000)).toBe(2);
    await s.remember('x', 1, 1000);
    await s.remember('y', 1, 1000);
    // the least recently used of three went
    expect(await s.count('n')).toBe(0);
    expect(s.size).toBe(2);
  });
});
