import { describe, expect, it } from 'vitest';
import { FakeClock, sleep } from '../../simulator/clock.ts';

describe('fake clock', () => {
  it('runs timers in time order only when advanced', async () => {
    const clock = new FakeClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b@200'), 200);
    clock.setTimeout(() => fired.push('a@100'), 100);
    const c = clock.setTimeout(() => fired.push('cancelled'), 150);
    clock.clearTimeout(c);
    await clock.advance(99);
    expect(fired).toEqual([]);
    await clock.advance(150);
    expect(fired).toEqual(['a@100', 'b@200']);
    expect(clock.now()).toBe(249);
  });

  it('drives sleeps, including timers set by code that a timer woke up', async () => {
    const clock = new FakeClock();
    const log: number[] = [];
    const task = (async () => {
      for (let i = 0; i < 3; i++) {
        await sleep(clock, 1000);
        log.push(clock.now());
      }
    })();
    await clock.advance(3000);
    await task;
    expect(log).toEqual([1000, 2000, 3000]);
  });

  it('ends a sleep early when its signal aborts', async () => {
    const clock = new FakeClock();
    const ac = new AbortController();
    const slept = sleep(clock, 10_000, ac.signal);
    ac.abort();
    expect(await slept).toBe(false);
    expect(clock.pending).toBe(0);
    expect(await sleep(clock, 5, ac.signal)).toBe(false);
  });
});
