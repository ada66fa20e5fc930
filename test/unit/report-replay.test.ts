// Replay and the workshop pause: a recorded stream fed back at a speed, paused,
// stepped and held at a mark; and the clock that holds a live run still.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { recordedThresholds, replaySummary, Replayer } from '../../reports/replay.ts';
import type { SimEvent } from '../../simulator/events.ts';
import { PausableClock } from '../../simulator/pausable-clock.ts';
import { stream } from './report-fixtures.ts';

afterEach(() => vi.useRealTimers());
const tmp = mkdtempSync(path.join(os.tmpdir(), 'attitude-replay-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function collect(r: Replayer): SimEvent[] {
  const seen: SimEvent[] = [];
  r.bus.subscribe((e) => seen.push(e));
  return seen;
}

describe('Replayer', () => {
  it('dispatches the events at the chosen speed, in order', async () => {
    vi.useFakeTimers();
    const events = stream();
    const r = new Replayer(events, { speed: 10 });
    const seen = collect(r);
    void r.start();
    await vi.advanceTimersByTimeAsync(50); // 0.5 s of the run
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((e) => e.t <= 500)).toBe(true);
    expect(seen.at(-1)!.t).toBeGreaterThanOrEqual(400);
    await vi.advanceTimersByTimeAsync(400); // the run is 3.2 s long
    await r.done;
    expect(seen).toEqual(events);
  });

  it('pauses, then steps one second or one event at a time', async () => {
    vi.useFakeTimers();
    const r = new Replayer(stream(), { speed: 1 });
    const seen = collect(r);
    void r.start();
    await vi.advanceTimersByTimeAsync(120);
    expect(r.togglePause()).toBe(true);
    const before = seen.length;
    await vi.advanceTimersByTimeAsync(2000);
    expect(seen.length).toBe(before); // paused: nothing more
    r.step('second');
    expect(seen.at(-1)!.t).toBeLessThanOrEqual(1000);
    expect(seen.filter((e) => e.t <= 1000)).toHaveLength(seen.length);
    const n = seen.length;
    r.step('event');
    expect(seen.length).toBe(n + 1);
    expect(r.togglePause()).toBe(false);
    await vi.advanceTimersByTimeAsync(4000);
    await r.done;
    expect(seen).toHaveLength(stream().length);
  });

  it('holds at a mark when a consumer pauses it, and goes on when released', async () => {
    vi.useFakeTimers();
    const r = new Replayer(stream(), { speed: Infinity });
    const seen = collect(r);
    r.bus.on('mark', () => r.pause());
    void r.start();
    await vi.advanceTimersByTimeAsync(100);
    expect(seen.at(-1)!.type).toBe('mark');
    expect(r.paused).toBe(true);
    r.resume();
    await vi.advanceTimersByTimeAsync(100);
    await r.done;
    expect(seen).toHaveLength(stream().length);
  });

  it("re-evaluates a recorded run's thresholds on the replayed ledger", () => {
    writeFileSync(
      path.join(tmp, 'summary.json'),
      JSON.stringify({ thresholds: [{ metric: 'delivered_ratio{actor:office}', rule: '>= 0.99', value: 0.5, ok: false }, { metric: 'lost', rule: '== 0', value: 0, ok: true }, { metric: 'delivered_ratio{actor:office}', rule: '> 0.5', value: 0.5, ok: true }] }),
    );
    const thresholds = recordedThresholds(tmp);
    expect(thresholds.map((t) => [t.key, t.rules.map((r) => r.source)])).toEqual([
      ['delivered_ratio{actor:office}', ['>= 0.99', '> 0.5']],
      ['lost', ['== 0']],
    ]);
    const s = replaySummary(stream(), thresholds);
    expect(s.thresholds.map((t) => [t.rule, t.value, t.ok])).toEqual([
      ['>= 0.99', 0.6667, false],
      ['> 0.5', 0.6667, true],
      ['== 0', 0, true],
    ]);
    expect(s).toMatchObject({ scenario: 'fixture', target: 'in-process 127.0.0.1:2525', interrupted: false, passed: false });
    expect(s.actors.office.messages).toMatchObject({ attempted: 3, delivered: 2, deferred: 1 });
    expect(recordedThresholds(path.join(tmp, 'nowhere'))).toEqual([]);
  });
});

describe('PausableClock', () => {
  it('stands still while paused: time stops and no timer fires; on resume each keeps the time it had left', async () => {
    vi.useFakeTimers();
    const clock = new PausableClock(() => Date.now());
    const start = clock.now();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('a'), 100);
    clock.setTimeout(() => fired.push('b'), 300);
    vi.advanceTimersByTime(50);
    clock.pause();
    vi.advanceTimersByTime(1000);
    expect(fired).toEqual([]);
    expect(clock.now() - start).toBe(50);
    const later = clock.setTimeout(() => fired.push('c'), 10); // set while paused: waits for the resume
    vi.advanceTimersByTime(100);
    expect(fired).toEqual([]);
    clock.resume();
    vi.advanceTimersByTime(9);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['c']);
    vi.advanceTimersByTime(39);
    expect(fired).toEqual(['c']);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['c', 'a']);
    clock.clearTimeout(later);
    vi.advanceTimersByTime(200);
    expect(fired).toEqual(['c', 'a', 'b']);
    expect(clock.now() - start).toBe(300);
  });
});
