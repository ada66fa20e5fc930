// Replay: a recorded events.jsonl fed back through a bus at a chosen speed, so
// the same consumers (the TUI, the progress lines, the run model) see the run
// again without any network traffic. It can pause, step a second or an event at
// a time, and hold at a mark like a live run in workshop mode.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { EventBus, type SimEvent } from '../simulator/events.ts';
import { ledgerOf } from '../simulator/ledger.ts';
import { parseEvents } from '../simulator/record.ts';
import { buildSummary, type RunSummary } from '../simulator/summary.ts';
import { parseThreshold, type Threshold } from '../simulator/thresholds.ts';

export interface ReplayOptions {
  /** run seconds per real second; Infinity: as fast as the consumers take them */
  speed: number;
  /** how often the replay wakes up to dispatch what fell due (ms) */
  tickMs?: number;
}

export class Replayer {
  readonly bus = new EventBus(() => 0);
  private next = 0;
  /** the run's time the replay has reached (ms) */
  private at = 0;
  private lastWall = 0;
  private playing = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private finish: (() => void) | null = null;
  readonly done: Promise<void>;

  constructor(
    private readonly events: SimEvent[],
    private readonly o: ReplayOptions,
  ) {
    this.done = new Promise((resolve) => (this.finish = resolve));
  }

  get position(): { index: number; t: number; total: number } {
    return { index: this.next, t: this.at, total: this.events.length };
  }

  get paused(): boolean {
    return !this.playing && !this.stopped;
  }

  start(): Promise<void> {
    this.resume();
    return this.done;
  }

  pause(): void {
    if (!this.playing) return;
    this.advanceClock();
    this.playing = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  resume(): void {
    if (this.playing || this.stopped) return;
    this.playing = true;
    this.lastWall = performance.now();
    this.schedule(0);
  }

  togglePause(): boolean {
    if (this.playing) this.pause();
    else this.resume();
    return !this.playing;
  }

  /** While paused: dispatch up to the next whole second, or the next event. */
  step(unit: 'second' | 'event'): void {
    if (this.playing || this.stopped) return;
    if (unit === 'event') {
      const e = this.events[this.next];
      if (e) this.at = Math.max(this.at, e.t);
      this.dispatchUpTo(this.at, 1);
    } else {
      this.at = (Math.floor(this.at / 1000) + 1) * 1000;
      this.dispatchUpTo(this.at);
    }
    // stepping past the last event ends the replay
    if (this.next >= this.events.length) this.stop();
  }

  stop(): void {
    this.stopped = true;
    this.playing = false;
    if (this.timer) clearTimeout(this.timer);
    this.finish?.();
  }

  private advanceClock(): void {
    const wall = performance.now();
    // at full speed the time is where the last dispatched event put it
    if (this.o.speed !== Infinity) this.at += (wall - this.lastWall) * this.o.speed;
    this.lastWall = wall;
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => this.tick(), ms);
  }

  private tick(): void {
    this.timer = null;
    if (!this.playing) return;
    if (this.o.speed === Infinity) {
      // as fast as possible, in slices, so a TUI still gets to draw and keys still arrive
      this.dispatchUpTo(Infinity, 2000);
      this.at = Math.max(this.at, this.events[this.next - 1]?.t ?? 0);
    } else {
      this.advanceClock();
      this.dispatchUpTo(this.at);
    }
    if (this.stopped) return;
    if (this.next >= this.events.length) {
      this.stop();
      return;
    }
    if (!this.playing) return; // held at a mark
    const wait = this.o.speed === Infinity ? 0 : Math.min(this.o.tickMs ?? 50, Math.max(0, (this.events[this.next].t - this.at) / this.o.speed));
    this.schedule(wait);
  }

  /** Dispatches events due by `t`; stops early when a consumer paused the replay (a mark). */
  private dispatchUpTo(t: number, max = Number.POSITIVE_INFINITY): void {
    let n = 0;
    const wasPlaying = this.playing;
    while (this.next < this.events.length && this.events[this.next].t <= t && n < max && !this.stopped) {
      this.bus.dispatch(this.events[this.next++]);
      n++;
      if (wasPlaying && !this.playing) {
        // held: the replay's time stops at the event that held it
        this.at = this.events[this.next - 1].t;
        break;
      }
    }
  }
}

/** The events of a run folder (or of an events.jsonl given directly). */
export function readRun(dirOrFile: string): { events: SimEvent[]; dir: string } {
  const file = dirOrFile.endsWith('.jsonl') ? dirOrFile : path.join(dirOrFile, 'events.jsonl');
  return { events: parseEvents(readFileSync(file, 'utf8')), dir: path.dirname(file) };
}

/**
 * The thresholds a recorded run was checked against, from its summary.json
 * (each result names its metric and rule), so a replay evaluates them again on
 * the replayed ledger.
 */
export function recordedThresholds(dir: string): Threshold[] {
  let recorded: RunSummary;
  try {
    recorded = JSON.parse(readFileSync(path.join(dir, 'summary.json'), 'utf8')) as RunSummary;
  } catch {
    return [];
  }
  const rules = new Map<string, string[]>();
  for (const t of recorded.thresholds ?? []) rules.set(t.metric, [...(rules.get(t.metric) ?? []), t.rule]);
  return [...rules].flatMap(([key, list]) => parseThreshold(key, list).threshold ?? []);
}

/** summary.json as the replayed events say it: the ledger again, the thresholds again. */
export function replaySummary(events: SimEvent[], thresholds: readonly Threshold[]): RunSummary {
  const start = events.find((e) => e.type === 'run.start');
  const end = events.find((e) => e.type === 'run.end');
  return buildSummary(ledgerOf(events), thresholds, {
    target: start?.type === 'run.start' ? start.target : '?',
    proxyConfig: start?.type === 'run.start' ? start.proxyConfig : null,
    interrupted: end?.type === 'run.end' ? end.interrupted : true,
  });
}
