// Turning schema failures into the list of problems a user reads: every problem at
// once, each with its key path and what was expected (exit code 104).
import type { z } from 'zod';
import { parseDocument } from 'yaml';
import { readFileSync } from 'node:fs';
import type { ErrorCode } from '../errors.ts';
import { closest, knownKeysAt, unknownKeyMessage } from './did-you-mean.ts';

export interface Problem {
  path: string;
  message: string;
}

export class InvalidFileError extends Error {
  readonly code: ErrorCode = 'EINVALID';
  readonly exitCode = 104;
  constructor(
    readonly file: string,
    readonly problems: Problem[],
  ) {
    super(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n` + problems.map((p) => `  - ${p.path || '(top)'}: ${p.message}`).join('\n'));
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return JSON.stringify(value);
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/** ` (did you mean X?)` when a string is a typo of one of the allowed values (`round-robbin`). */
export function didYouMean(input: unknown, allowed: ReadonlyArray<unknown>): string {
  if (typeof input !== 'string') return '';
  const suggestion = closest(input, allowed.filter((v): v is string => typeof v === 'string'));
  return suggestion ? ` (did you mean ${suggestion}?)` : '';
}

function issueMessage(issue: z.core.$ZodIssue): string {
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}, got ${describe(input)}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describe(input)}${didYouMean(input, issue.values)}`;
    case 'invalid_union': {
      // Our unions are "a unit string or a number" or "off/null or a unit": the custom
      // message of the last branch says what was expected.
      const inner = issue.errors.flat().find((i) => i.code === 'custom') ?? issue.errors.flat().at(-1);
      return inner && inner.code === 'custom' ? inner.message : `unexpected value ${describe(input)}`;
    }
    case 'too_small': {
      if (issue.origin === 'array') {
        const n = Number(issue.minimum);
        const got = Array.isArray(input) ? (input.length ? `${input.length}` : 'an empty list') : describe(input);
        return `expected at least ${n} item${n === 1 ? '' : 's'}, got ${got}`;
      }
      return `expected ${issue.origin === 'string' ? 'a non-empty string' : '>= ' + issue.minimum}, got ${describe(input)}`;
    }
    case 'too_big':
      return `expected <= ${issue.maximum}, got ${describe(input)}`;
    default:
      return issue.message;
  }
}

/** `schema` is the one that failed: it knows the keys an unknown key may be a typo of. */
export function problemsFromZod(error: z.ZodError, schema?: z.core.$ZodType): Problem[] {
  const out: Problem[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = schema ? knownKeysAt(schema, issue.path) : [];
      for (const key of issue.keys) out.push({ path: formatPath([...issue.path, key]), message: unknownKeyMessage(key, known) });
    } else {
      out.push({ path: formatPath(issue.path), message: issueMessage(issue) });
    }
  }
  return out;
}

/** Reads a YAML file into plain data, turning syntax errors into problems with line numbers. */
export function readYaml(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InvalidFileError(file, [{ path: '', message: `cannot read file: ${(err as Error).message}` }]);
  }
  return parseYamlText(text, file);
}

export function parseYamlText(text: string, file: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    throw new InvalidFileError(
      file,
      doc.errors.map((e) => ({ path: e.linePos ? `line ${e.linePos[0].line}` : '', message: e.message.split('\n')[0] })),
    );
  }
  return doc.toJS() ?? {};
}

export function validate<S extends z.ZodType>(schema: S, data: unknown, file: string): z.output<S> {
  const result = schema.safeParse(data, { reportInput: true });
  if (!result.success) throw new InvalidFileError(file, problemsFromZod(result.error, schema));
  return result.data;
}
