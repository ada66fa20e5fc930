// Ranges of the scenario format: `1..3` recipients, `2KB..50KB` sizes,
// `20ms..80ms` latencies, a single value for a fixed one, or
// `{ min, max, dist: log-uniform }` when small values should be more common
// (message sizes are: most mail is small, a few messages are huge).
import { parsedField } from '../../proxy/config/fields.ts';
import { parseDuration, parseSize } from '../../proxy/config/units.ts';
import type { Random } from '../random.ts';

export type Distribution = 'uniform' | 'log-uniform';

export interface Range {
  min: number;
  max: number;
  dist: Distribution;
}

type UnitParser = (v: unknown) => number | undefined;

const parseCount: UnitParser = (v) => {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  if (typeof v === 'string' && /^\s*\d+\s*$/.test(v)) return Number(v);
  return undefined;
};

function parseRange(value: unknown, parse: UnitParser): Range | undefined {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.some((k) => !['min', 'max', 'dist'].includes(k))) return undefined;
    const min = parse(o.min);
    const max = parse(o.max ?? o.min);
    const dist = o.dist ?? 'uniform';
    if (min === undefined || max === undefined || max < min || (dist !== 'uniform' && dist !== 'log-uniform')) return undefined;
    return { min, max, dist };
  }
  if (typeof value === 'string' && value.includes('..')) {
    const [a, b, ...rest] = value.split('..');
    if (rest.length) return undefined;
    const min = parse(a.trim());
    const max = parse(b.trim());
    if (min === undefined || max === undefined || max < min) return undefined;
    return { min, max, dist: 'uniform' };
  }
  const single = parse(value);
  return single === undefined ? undefined : { min: single, max: single, dist: 'uniform' };
}

function rangeField(parse: UnitParser, expected: string) {
  return parsedField((value) => parseRange(value, parse), expected);
}

export const countRange = () => rangeField(parseCount, 'a count or a range like 1..3');
export const sizeRange = () => rangeField(parseSize, 'a size or a range like 2KB..50KB');
export const durationRange = () => rangeField(parseDuration, 'a duration or a range like 20ms..80ms');

export const fixed = (n: number): Range => ({ min: n, max: n, dist: 'uniform' });

/** One draw from the range, rounded to an integer. */
export function draw(random: Random, r: Range): number {
  if (r.max === r.min) return r.min;
  if (r.dist === 'log-uniform' && r.min > 0) {
    const lo = Math.log(r.min);
    return Math.round(Math.exp(lo + random() * (Math.log(r.max) - lo)));
  }
  return Math.floor(r.min + random() * (r.max - r.min + 1));
}

export function formatRange(r: Range, unit: (n: number) => string = String): string {
  return r.min === r.max ? unit(r.min) : `${unit(r.min)}..${unit(r.max)}`;
}
