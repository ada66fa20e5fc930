// Ranges of the scenario format: `1..3` recipients, `2KB..50KB` sizes,
// `20ms..80ms` latencies, a single value for a fixed one, or
// `{ min, max, dist: log-uniform }` when small values should be more common
// (message sizes are: most mail is small, a few messages are huge).
import { parsedField } from '../../proxy/config/fields.ts';
import { caseless, textOf, type JsonSchema } from '../../proxy/config/editor-forms.ts';
import { DURATION_SYNTAX, formatDuration, formatSize, parseDuration, parseSize, SIZE_SYNTAX } from '../../proxy/config/units.ts';
import type { Random } from '../random.ts';

export type Distribution = 'uniform' | 'log-uniform';

export interface Range {
  min: number;
  max: number;
  dist: Distribution;
}

type UnitParser = (v: unknown) => number | undefined;

/** One unit of a range, as the parser takes it and as an editor sees it. */
interface Unit {
  parse: UnitParser;
  /** the JSON Schema of a plain number of this unit */
  number: JsonSchema;
  /** the regular expression source of a string of this unit (case-insensitive) */
  syntax: string;
  show: (n: number) => number | string;
}

const COUNT: Unit = {
  parse: (v) => {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
    if (typeof v === 'string' && /^\s*\d+\s*$/.test(v)) return Number(v);
    return undefined;
  },
  number: { type: 'integer', minimum: 0 },
  syntax: '\\d+',
  show: (n) => n,
};
const SIZE: Unit = { parse: parseSize, number: { type: 'number', minimum: 0 }, syntax: SIZE_SYNTAX, show: formatSize };
const DURATION: Unit = { parse: parseDuration, number: { type: 'number', minimum: 0 }, syntax: DURATION_SYNTAX, show: formatDuration };

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

/** What an editor accepts: a number, `A` or `A..B`, or `{ min, max, dist }`. */
function rangeJson(unit: Unit): JsonSchema {
  const one = { anyOf: [unit.number, textOf(unit.syntax)] };
  return {
    anyOf: [
      unit.number,
      { type: 'string', pattern: caseless(`^\\s*(?:${unit.syntax})\\s*(?:\\.\\.\\s*(?:${unit.syntax})\\s*)?$`) },
      {
        type: 'object',
        properties: { min: one, max: one, dist: { type: 'string', enum: ['uniform', 'log-uniform'], default: 'uniform' } },
        required: ['min'],
        additionalProperties: false,
      },
    ],
  };
}

function rangeField(unit: Unit, expected: string) {
  return parsedField((value) => parseRange(value, unit.parse), expected, {
    json: rangeJson(unit),
    show: (r: Range) =>
      r.dist !== 'uniform' ? { min: unit.show(r.min), max: unit.show(r.max), dist: r.dist } : r.min === r.max ? unit.show(r.min) : `${unit.show(r.min)}..${unit.show(r.max)}`,
  });
}

export const countRange = () => rangeField(COUNT, 'a count or a range like 1..3');
export const sizeRange = () => rangeField(SIZE, 'a size or a range like 2KB..50KB');
export const durationRange = () => rangeField(DURATION, 'a duration or a range like 20ms..80ms');

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
