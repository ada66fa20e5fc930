// Parsers for the units of the config and scenario files (DESIGN.md "Proxy config"):
// durations `500ms 5s 1m 1h`, sizes `512B 64KB 10MB`, rates `COUNT/DURATION`,
// bandwidth `SIZE/s`. Each returns undefined on bad input so the schema can say
// what was expected at the exact key path.

const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
// Binary multiples, as mail software (Postfix message_size_limit, Haraka) counts them.
const SIZE_BYTES: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/**
 * The unit syntaxes as regular expression sources (unanchored, case-insensitive), shared
 * by the parsers below and the editor schemas (fields.ts), so an editor accepts the
 * strings the parsers accept.
 */
const NUMBER = '\\d+(?:\\.\\d+)?';
export const DURATION_SYNTAX = `(${NUMBER})\\s*(ms|s|m|h|d)`;
export const SIZE_SYNTAX = `(${NUMBER})\\s*(b|kb|mb|gb|k|m|g)?`;
export const RATE_SYNTAX = `(${NUMBER})\\s*/\\s*(${NUMBER})?\\s*(ms|s|m|h|d)`;
/** What parseBandwidth accepts: a size, then `/s`. */
export const BANDWIDTH_SYNTAX = `${SIZE_SYNTAX}\\s*/\\s*s`;

const whole = (syntax: string) => new RegExp(`^\\s*${syntax}\\s*$`, 'i');
const DURATION_RE = whole(DURATION_SYNTAX);
const SIZE_RE = whole(SIZE_SYNTAX);
const RATE_RE = whole(RATE_SYNTAX);

export interface Rate {
  count: number;
  perMs: number;
}

export function parseDuration(input: unknown): number | undefined {
  if (typeof input === 'number' && Number.isFinite(input) && input >= 0) return input;
  if (typeof input !== 'string') return undefined;
  const m = DURATION_RE.exec(input);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * DURATION_MS[m[2].toLowerCase()]);
}

export function parseSize(input: unknown): number | undefined {
  if (typeof input === 'number' && Number.isFinite(input) && input >= 0) return Math.floor(input);
  if (typeof input !== 'string') return undefined;
  const m = SIZE_RE.exec(input);
  if (!m) return undefined;
  return Math.floor(Number(m[1]) * SIZE_BYTES[(m[2] ?? 'b').toLowerCase()]);
}

/** `60/1m`, `5/s` (a bare unit means one of it). */
export function parseRate(input: unknown): Rate | undefined {
  if (typeof input !== 'string') return undefined;
  const m = RATE_RE.exec(input);
  if (!m) return undefined;
  const perMs = Number(m[2] ?? 1) * DURATION_MS[m[3].toLowerCase()];
  if (perMs <= 0) return undefined;
  return { count: Number(m[1]), perMs };
}

/** `256KB/s`: bytes per second. */
export function parseBandwidth(input: unknown): number | undefined {
  if (typeof input === 'number' && Number.isFinite(input) && input > 0) return input;
  if (typeof input !== 'string') return undefined;
  const m = /^\s*(.+?)\s*\/\s*s\s*$/i.exec(input);
  if (!m) return undefined;
  const bytes = parseSize(m[1]);
  return bytes && bytes > 0 ? bytes : undefined;
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0 && ms > 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

export function formatSize(bytes: number): string {
  if (bytes >= 1024 ** 2 && bytes % 1024 ** 2 === 0) return `${bytes / 1024 ** 2}MB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024}KB`;
  return `${bytes}B`;
}

export function formatRate(rate: Rate): string {
  return `${rate.count}/${formatDuration(rate.perMs)}`;
}
