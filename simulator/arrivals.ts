// Arrival processes: when the next message or connection of an actor group
// arrives. `rate` alone is Poisson (independent senders); `arrival:` offers a
// constant pace, k6-style ramps, bursts, and a histogram (a recorded timeline kept
// in shape: so many arrivals in each bucket). All draws come from the seeded stream.
import type { Rate } from '../proxy/config/units.ts';
import type { ArrivalSpec } from './scenario/schema.ts';
import { exponential, type Random } from './random.ts';

const perMs = (r: Rate) => r.count / r.perMs;

/** Arrival offsets (ms, ascending) in [from, to). */
export function arrivalTimes(random: Random, spec: ArrivalSpec | undefined, rate: Rate | undefined, from: number, to: number): number[] {
  const s = typeof spec === 'string' || spec === undefined ? { type: spec ?? 'poisson' } : spec;
  const r = (typeof spec === 'object' ? spec.rate : undefined) ?? rate;
  const out: number[] = [];
  switch (s.type) {
    case 'poisson': {
      if (!r || r.count <= 0) return out;
      const mean = 1 / perMs(r);
      for (let t = from + exponential(random, mean); t < to; t += exponential(random, mean)) out.push(round(t));
      return out;
    }
    case 'constant': {
      if (!r || r.count <= 0) return out;
      const gap = 1 / perMs(r);
      for (let t = from; t < to; t += gap) out.push(round(t));
      return out;
    }
    case 'ramp': {
      const stages = (s as Exclude<ArrivalSpec, string>).stages ?? [];
      const start = (s as Exclude<ArrivalSpec, string>).from;
      // piecewise-linear intensity; a non-homogeneous Poisson process by thinning
      const points: Array<[number, number]> = [[from, start ? perMs(start) : 0]];
      let at = from;
      for (const st of stages) {
        at += st.duration;
        points.push([at, perMs(st.target)]);
      }
      const end = Math.min(to, at);
      const max = Math.max(...points.map((p) => p[1]));
      if (max <= 0) return out;
      const intensity = (t: number): number => {
        for (let i = 1; i < points.length; i++) {
          const [t1, r1] = points[i];
          const [t0, r0] = points[i - 1];
          if (t <= t1) return t1 === t0 ? r1 : r0 + ((r1 - r0) * (t - t0)) / (t1 - t0);
        }
        return points[points.length - 1][1];
      };
      for (let t = from + exponential(random, 1 / max); t < end; t += exponential(random, 1 / max)) {
        if (random() * max < intensity(t)) out.push(round(t));
      }
      return out;
    }
    case 'bursts': {
      const b = s as Exclude<ArrivalSpec, string>;
      const every = b.every ?? 0;
      const size = b.size ?? 0;
      const spread = b.spread ?? 0;
      if (every <= 0 || size <= 0) return out;
      for (let t = from; t < to; t += every) {
        const burst: number[] = [];
        for (let i = 0; i < size; i++) burst.push(round(Math.min(to - 0.1, t + random() * spread)));
        out.push(...burst.sort((x, y) => x - y));
      }
      return out;
    }
    case 'histogram': {
      const h = s as Exclude<ArrivalSpec, string>;
      const bucket = h.bucket ?? 0;
      if (bucket <= 0) return out;
      for (const [i, count] of (h.counts ?? []).entries()) {
        const start = from + i * bucket;
        if (start >= to) break;
        const width = Math.min(bucket, to - start);
        const times: number[] = [];
        for (let k = 0; k < count; k++) times.push(round(Math.min(to - 0.1, start + random() * width)));
        out.push(...times.sort((x, y) => x - y));
      }
      return out;
    }
  }
  return out;
}

function round(t: number): number {
  return Math.round(t * 10) / 10;
}
