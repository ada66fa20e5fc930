import { describe, expect, it } from 'vitest';
import { GlobalBandwidth, TokenBucket, type Timers } from '../../proxy/policy/token-bucket.ts';

/** A fake clock with timers: advance() fires due timers in time order. */
class FakeTime implements Timers {
  now = 0;
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private nextId = 1;
  readonly clock = () => this.now;

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ at: this.now + ms, fn, id });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  get pending(): number {
    return this.timers.length;
  }

  /** Advances time, firing timers and letting promise callbacks run after each. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.now = next.at;
      next.fn();
      await flush();
    }
    this.now = end;
    await flush();
  }
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('TokenBucket', () => {
  it('lets a burst through at once, then says exactly how long to wait', () => {
    const t = new FakeTime();
    const b = new TokenBucket(1000, 500, t.clock);
    expect(b.available()).toBe(500);
    expect(b.take(500)).toBe(0);
    expect(b.take(100)).toBe(100); // 100 bytes at 1000 B/s
    expect(b.take(100)).toBe(200); // in debt: waits add up
    t.now += 200;
    expect(b.available()).toBe(0);
    expect(b.take(0)).toBe(0);
    t.now += 100;
    expect(b.available()).toBe(100);
  });

  it('passes a chunk larger than the burst after a proportionally longer wait', () => {
    const t = new FakeTime();
    const b = new TokenBucket(1000, 100, t.clock);
    expect(b.take(2100)).toBe(2000);
  });

  it('refills up to the burst only', () => {
    const t = new FakeTime();
    const b = new TokenBucket(1000, 300, t.clock);
    b.take(300);
    t.now += 60_000;
    expect(b.available()).toBe(300);
  });

  it('keeps the average rate over a long run of takes that wait as told', () => {
    const t = new FakeTime();
    const b = new TokenBucket(10_000, 1000, t.clock);
    let sent = 0;
    for (let i = 0; i < 1000; i++) {
      t.now += b.take(777);
      sent += 777;
    }
    // after the initial burst, bytes / elapsed stays at the rate
    expect((sent - 1000) / (t.now / 1000)).toBeCloseTo(10_000, -1);
  });

  it('configure() changes rate and burst and keeps the fill', () => {
    const t = new FakeTime();
    const b = new TokenBucket(1000, 1000, t.clock);
    b.take(200);
    b.configure(100, 500);
    expect(b.available()).toBe(500);
    b.take(500);
    expect(b.take(100)).toBe(1000);
  });

  it('refuses a zero rate', () => {
    expect(() => new TokenBucket(0, 10, () => 0)).toThrow(RangeError);
  });
});

describe('GlobalBandwidth', () => {
  it('grants immediately while the budget allows and nobody waits', async () => {
    const t = new FakeTime();
    const g = new GlobalBandwidth({ rate: 1000, burst: 500, clock: t.clock, timers: t });
    let done = false;
    void g.consume('a', 400).then(() => (done = true));
    await flush();
    expect(done).toBe(true);
    expect(t.pending).toBe(0);
  });

  it('never passes more than rate x time + burst in total', async () => {
    const t = new FakeTime();
    const g = new GlobalBandwidth({ rate: 1000, burst: 100, clock: t.clock, timers: t });
    let granted = 0;
    for (let i = 0; i < 30; i++) void g.consume(`c${i % 3}`, 200).then(() => (granted += 200));
    await t.advance(2000);
    expect(granted).toBeLessThanOrEqual(1000 * 2 + 100);
    expect(granted).toBeGreaterThanOrEqual(1000 * 2 - 400);
  });

  it('does not let one hog starve a small client that arrives later', async () => {
    const t = new FakeTime();
    const g = new GlobalBandwidth({ rate: 1000, burst: 100, clock: t.clock, timers: t });
    let hogDone = 0;
    for (let i = 0; i < 10; i++) void g.consume('hog', 1000).then(() => hogDone++);
    await t.advance(50);
    let smallDoneAt = -1;
    void g.consume('small', 100).then(() => (smallDoneAt = t.now));
    await t.advance(1000);
    // a FIFO would make it wait ~10 s behind the hog; a fair share (500 B/s) takes ~200 ms
    expect(smallDoneAt).toBeGreaterThan(0);
    expect(smallDoneAt).toBeLessThanOrEqual(50 + 300);
    expect(hogDone).toBeLessThan(10);
  });

  it('splits the budget evenly between clients that keep asking', async () => {
    const t = new FakeTime();
    const g = new GlobalBandwidth({ rate: 10_000, burst: 1000, clock: t.clock, timers: t });
    const got: Record<string, number> = { a: 0, b: 0, c: 0 };
    const pump = (key: string, size: number) => {
      const loop = (): void => void g.consume(key, size).then(() => {
        got[key] += size;
        loop();
      });
      loop();
    };
    pump('a', 4096); // big chunks
    pump('b', 512);
    pump('c', 100); // small chunks
    await t.advance(5000);
    const total = got.a + got.b + got.c;
    expect(total).toBeLessThanOrEqual(10_000 * 5 + 1000 + 3 * 4096);
    for (const key of ['a', 'b', 'c']) expect(got[key] / total).toBeGreaterThan(0.25);
    g.close();
  });

  it('drops an aborted waiter and rejects its promise', async () => {
    const t = new FakeTime();
    const g = new GlobalBandwidth({ rate: 100, burst: 10, clock: t.clock, timers: t });
    const ac = new AbortController();
    const p = g.consume('gone', 1000, ac.signal);
    expect(g.waiting()).toBe(1);
    ac.abort(new Error('client left'));
    await expect(p).rejects.toThrow('client left');
    expect(g.waiting()).toBe(0);
    let other = false;
    void g.consume('other', 50).then(() => (other = true));
    await t.advance(600);
    expect(other).toBe(true);
  });

  it('rejects at once for an already aborted signal', async () => {
    const g = new GlobalBandwidth({ rate: 100, clock: () => 0, timers: new FakeTime() });
    await expect(g.consume('x', 1, AbortSignal.abort(new Error('no')))).rejects.toThrow('no');
  });

  it('close() releases every waiter and stops its timer', async () => {
    const t = new FakeTime();
    const g = new GlobalBandwidth({ rate: 10, burst: 1, clock: t.clock, timers: t });
    let released = 0;
    for (let i = 0; i < 5; i++) void g.consume(`c${i}`, 1000).then(() => released++);
    await flush();
    expect(t.pending).toBe(1);
    g.close();
    await flush();
    expect(released).toBe(5);
    expect(t.pending).toBe(0);
  });
});
