// "Did you mean": for an unknown key, the known key at the same place that it most
// likely is a typo of (`conections` -> `connections`). The known keys come from the
// zod schema itself, so a key added to a schema is suggested without a list to keep.
import type { z } from 'zod';

/**
 * Optimal string alignment distance (Damerau-Levenshtein restricted to adjacent
 * transpositions): a typo is usually a letter missing, doubled, wrong, or two
 * letters swapped, and each of those costs 1.
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The candidate closest to `word` (case aside: `maxsize` is `maxSize`), if it is close
 * enough to be a typo: at most 2 edits, and fewer than half the word's letters, so
 * short words are not "corrected" into other short words (`v3` is not a typo of `v1`,
 * `ttl` not of `tls`). A tie goes to the first candidate, in schema order.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.min(2, Math.ceil(word.length / 2) - 1);
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate === word) continue;
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance <= limit && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

type Def = {
  type: string;
  shape?: Record<string, z.core.$ZodType>;
  element?: z.core.$ZodType;
  valueType?: z.core.$ZodType;
  innerType?: z.core.$ZodType;
  in?: z.core.$ZodType;
  options?: z.core.$ZodType[];
  left?: z.core.$ZodType;
  right?: z.core.$ZodType;
  getter?: () => z.core.$ZodType;
};

/**
 * The keys an object at `path` of `schema` may have, or none when the path leads to no
 * object. Wrappers (optional, default, ...) are looked through; a union offers the keys
 * of every object it allows (the issue does not say which branch the user meant).
 */
export function knownKeysAt(schema: z.core.$ZodType, path: ReadonlyArray<PropertyKey>): string[] {
  const def = schema._zod.def as unknown as Def;
  const [head, ...rest] = path;
  switch (def.type) {
    case 'object':
      if (path.length === 0) return Object.keys(def.shape!);
      return typeof head === 'string' && def.shape![head] ? knownKeysAt(def.shape![head], rest) : [];
    case 'array':
      return typeof head === 'number' ? knownKeysAt(def.element!, rest) : [];
    case 'record':
      return path.length ? knownKeysAt(def.valueType!, rest) : [];
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
      return knownKeysAt(def.innerType!, path);
    case 'pipe':
      // the input side: that is what the file says
      return knownKeysAt(def.in!, path);
    case 'lazy':
      return knownKeysAt(def.getter!(), path);
    case 'union':
      return [...new Set(def.options!.flatMap((o) => knownKeysAt(o, path)))];
    case 'intersection':
      return [...new Set([...knownKeysAt(def.left!, path), ...knownKeysAt(def.right!, path)])];
    default:
      return [];
  }
}

/** `unknown key`, with the known key it is most likely a typo of. */
export function unknownKeyMessage(key: string, known: Iterable<string>): string {
  const suggestion = closest(key, known);
  return suggestion ? `unknown key (did you mean ${suggestion}?)` : 'unknown key';
}
