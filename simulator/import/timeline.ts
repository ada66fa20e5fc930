// The log's timeline squeezed (or not) into the scenario's duration, in shape: the
// span from the first to the last line (plus one tick of the log's resolution, since
// `20:19:09` means some time in that second) maps linearly onto [0, duration), and
// arrivals are counted in buckets, so a burst at 20:19:05 is a burst at the same place
// of the run. Rates grow by the same factor: the lesson says by how much.

export interface Timeline {
  /** the log's first moment, ms */
  origin: number;
  /** the log's span, ms */
  spanMs: number;
  /** the scenario's duration, ms: buckets x bucketMs */
  durationMs: number;
  buckets: number;
  /** one bucket in the run */
  bucketMs: number;
  /** how many times faster than the log the run goes (1: real time) */
  speedup: number;
  /** the log's own tick: 1000 when its stamps have whole seconds */
  resolutionMs: number;
}

/** At most this many buckets: a day's log keeps its hours, a minute's its seconds. */
export const MAX_BUCKETS = 120;

/** A run without --duration replays at most this much of the log. */
const MAX_DEFAULT_MS = 60_000;

export function timeline(first: number, last: number, resolutionMs: number, durationMs: number | null): Timeline {
  const spanMs = Math.max(resolutionMs, last - first + resolutionMs);
  const wanted = durationMs ?? Math.min(MAX_DEFAULT_MS, Math.max(1000, Math.ceil(spanMs / 1000) * 1000));
  // as many buckets as the log's resolution gives, at most MAX_BUCKETS, and a number that
  // divides the duration into whole milliseconds
  let buckets = Math.max(1, Math.min(MAX_BUCKETS, Math.round(spanMs / resolutionMs)));
  while (buckets > 1 && wanted % buckets !== 0) buckets--;
  const bucketMs = Math.max(1, Math.round(wanted / buckets));
  const run = bucketMs * buckets;
  return { origin: first, spanMs, durationMs: run, buckets, bucketMs, speedup: spanMs / run, resolutionMs };
}

/** A moment of the log as an offset into the run, ms. */
export function toRun(tl: Timeline, t: number): number {
  return Math.min(tl.durationMs - 1, Math.max(0, Math.round(((t - tl.origin) / tl.spanMs) * tl.durationMs)));
}

/** A length of the log's time (a held connection) as run time, ms. */
export function toRunSpan(tl: Timeline, ms: number): number {
  return Math.round(ms / tl.speedup);
}

export function bucketOf(tl: Timeline, t: number): number {
  return Math.min(tl.buckets - 1, Math.max(0, Math.floor(((t - tl.origin) / tl.spanMs) * tl.buckets)));
}

/** The histogram arrival of these moments: from the first busy bucket to the last. */
export function histogram(tl: Timeline, times: readonly number[]): { startMs: number; counts: number[] } | null {
  if (!times.length) return null;
  const counts = Array<number>(tl.buckets).fill(0);
  for (const t of times) counts[bucketOf(tl, t)]++;
  const first = counts.findIndex((n) => n > 0);
  let last = counts.length - 1;
  while (counts[last] === 0) last--;
  return { startMs: first * tl.bucketMs, counts: counts.slice(first, last + 1) };
}

/** `1x`, `12x`, `0.5x` */
export function formatSpeedup(speedup: number): string {
  const r = speedup >= 10 ? Math.round(speedup) : Math.round(speedup * 10) / 10;
  return `${r}x`;
}
