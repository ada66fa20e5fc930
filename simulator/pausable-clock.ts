// A real clock that can stop (workshop mode pauses a run at its marks). While
// paused, `now()` stands still and no timer fires, so the actors send nothing
// new, retries wait and the duration does not run out; on resume every timer
// is re-armed with the time it had left. Conversations already on the wire
// finish in real time: the proxy and the mock backends keep their own clocks.
import type { Clock, TimerHandle } from './clock.ts';

interface Pending {
  /** when it falls due, on this clock's scale */
  due: number;
  fn: () => void;
  real: NodeJS.Timeout | null;
}

let nextId = 1;

export class PausableClock implements Clock {
  private pausedAt: number | null = null;
  /** real time spent paused, subtracted from `now()` */
  private pausedFor = 0;
  private timers = new Map<number, Pending>();

  constructor(private readonly realNow: () => number = () => performance.now()) {}

  get paused(): boolean {
    return this.pausedAt !== null;
  }

  now(): number {
    return (this.pausedAt ?? this.realNow()) - this.pausedFor;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = nextId++;
    const timer: Pending = { due: this.now() + Math.max(0, ms), fn, real: null };
    this.timers.set(id, timer);
    if (!this.paused) this.arm(id, timer, this.now());
    return { id };
  }

  clearTimeout(handle: TimerHandle): void {
    const t = this.timers.get(handle.id);
    if (t?.real) clearTimeout(t.real);
    this.timers.delete(handle.id);
  }

  pause(): void {
    if (this.paused) return;
    this.pausedAt = this.realNow();
    for (const t of this.timers.values()) {
      if (t.real) clearTimeout(t.real);
      t.real = null;
    }
  }

  resume(): void {
    if (this.pausedAt === null) return;
    this.pausedFor += this.realNow() - this.pausedAt;
    this.pausedAt = null;
    const now = this.now();
    // re-armed in due order so timers due together still fire in the order they were set
    const due = [...this.timers].sort((a, b) => a[1].due - b[1].due || a[0] - b[0]);
    for (const [id, t] of due) this.arm(id, t, now);
  }

  private arm(id: number, t: Pending, now: number): void {
    t.real = setTimeout(() => {
      this.timers.delete(id);
      t.fn();
    }, Math.max(0, t.due - now));
  }
}
