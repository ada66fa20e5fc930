// The grid of a sweep: `--vary KEY=V1,V2` options into every combination of values,
// each set into the base proxy config's data at its key path and parsed by the config
// schema like a file would be, so `connections.perClient=abc` fails as the file would
// (and `conections.perClient` gets its did-you-mean). Every problem of every option,
// value and combination is collected before anything runs.
import { parseProxyConfig } from '../../proxy/config/load.ts';
import { formatPath, InvalidFileError, parseYamlText, validate, type Problem } from '../../proxy/config/problems.ts';
import { proxyConfigSchema, type ProxyConfig } from '../../proxy/config/schema.ts';

export interface Vary {
  /** as the user wrote it: `connections.perClient` */
  key: string;
  path: Array<string | number>;
  /** as written, and as YAML reads them (`10` a number, `off` a string, `[a, b]` a list) */
  raw: string[];
  values: unknown[];
}

export interface GridPoint {
  /** 1-based, in grid order (the first --vary changes slowest) */
  index: number;
  /** KEY -> the value as written */
  values: Record<string, string>;
  config: ProxyConfig;
}

/** `a.b[2].c` -> ['a', 'b', 2, 'c'] */
export function keyPath(key: string): Array<string | number> | null {
  if (!/^[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*|\[\d+\])*$/.test(key)) return null;
  const out: Array<string | number> = [];
  for (const m of key.matchAll(/([A-Za-z_][\w-]*)|\[(\d+)\]/g)) out.push(m[1] ?? Number(m[2]));
  return out;
}

/** Splits at the commas outside brackets and quotes: `[a, b],off` -> `[a, b]`, `off`. */
export function splitValues(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let cur = '';
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '[' || ch === '{') depth++;
    else if (ch === ']' || ch === '}') depth--;
    else if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += ch;
  }
  out.push(cur.trim());
  return out;
}

export function parseVary(options: readonly string[]): { varies: Vary[]; problems: Problem[] } {
  const varies: Vary[] = [];
  const problems: Problem[] = [];
  for (const option of options) {
    const eq = option.indexOf('=');
    const key = eq < 0 ? option : option.slice(0, eq);
    const at = `--vary ${key}`;
    const path = keyPath(key.trim());
    if (eq < 0 || !path) {
      problems.push({ path: at, message: `expected KEY=V1,V2,... with KEY a proxy config key path like connections.perClient, got ${JSON.stringify(option)}` });
      continue;
    }
    if (varies.some((v) => v.key === key)) {
      problems.push({ path: at, message: 'expected each key once (list all its values in one --vary)' });
      continue;
    }
    const raw = splitValues(option.slice(eq + 1));
    if (raw.some((r) => r === '')) {
      problems.push({ path: at, message: `expected values separated by commas, got ${JSON.stringify(option.slice(eq + 1))}` });
      continue;
    }
    const dup = raw.find((r, i) => raw.indexOf(r) !== i);
    if (dup) problems.push({ path: at, message: `${JSON.stringify(dup)} is listed twice` });
    const values: unknown[] = [];
    for (const r of raw) {
      try {
        values.push(parseYamlText(r, at));
      } catch (err) {
        problems.push({ path: `${at}=${r}`, message: err instanceof InvalidFileError ? err.problems.map((p) => p.message).join('; ') : String(err) });
      }
    }
    varies.push({ key, path, raw, values });
  }
  return { varies, problems };
}

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** `data` with `value` at `path` (maps made where missing); a problem when something on the way is not a map or list. */
export function setAt(data: unknown, path: ReadonlyArray<string | number>, value: unknown): { data: unknown; problem: string | null } {
  const root = (clone(data) ?? {}) as Record<string | number, unknown>;
  if (typeof root !== 'object' || Array.isArray(root)) return { data, problem: 'the config is not a map' };
  let node: Record<string | number, unknown> = root;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i];
    const next = node[k];
    const here = formatPath(path.slice(0, i + 1));
    if (next === undefined || next === null) {
      if (typeof path[i + 1] === 'number') return { data, problem: `${here} has no list to index` };
      node[k] = {};
    } else if (typeof next !== 'object' || (Array.isArray(next) && typeof path[i + 1] === 'string')) {
      return { data, problem: `${here} is ${JSON.stringify(next)}, not a map` };
    } else if (!Array.isArray(next) && typeof path[i + 1] === 'number') {
      return { data, problem: `${here} is a map, not a list` };
    }
    node = node[k] as Record<string | number, unknown>;
  }
  const last = path[path.length - 1];
  if (typeof last === 'number' && (!Array.isArray(node) || last >= node.length)) return { data, problem: `no item [${last}] there` };
  node[last] = clone(value);
  return { data: root, problem: null };
}

/** The problems of `data`: the schema's alone (a value on its own), or with the checks across keys too. */
function configProblems(data: unknown, file: string, across = true): Problem[] {
  try {
    if (across) parseProxyConfig(data, file, { use: 'run' });
    else validate(proxyConfigSchema, data, file);
    return [];
  } catch (err) {
    if (err instanceof InvalidFileError) return err.problems;
    throw err;
  }
}

export interface GridOptions {
  /** the base config's data (a file's YAML as read), {} for the defaults */
  base: unknown;
  baseFile: string;
  maxRuns: number;
}

/**
 * Every combination, each parsed; throws InvalidFileError listing every problem: the
 * options', each value's (with its key path), and combinations that fail only together.
 */
export function buildGrid(options: readonly string[], o: GridOptions): { varies: Vary[]; points: GridPoint[] } {
  const { varies, problems } = parseVary(options);
  if (!options.length) problems.push({ path: '--vary', message: 'expected at least one --vary KEY=V1,V2,...' });
  const baseProblems = configProblems(o.base, o.baseFile);
  if (baseProblems.length) throw new InvalidFileError(o.baseFile, baseProblems);
  // each value alone on the base: its own problems, with its key path
  for (const v of varies) {
    // a problem with the key itself (unknown, not a map) is said once, one with a value for each value
    const aboutKey = new Set<string>();
    v.values.forEach((value, i) => {
      const at = `--vary ${v.key}=${v.raw[i]}`;
      const set = setAt(o.base, v.path, value);
      // the checks across keys wait for the combinations: a value may be fine with another one varied
      const found = set.problem ? [{ path: '', message: set.problem }] : configProblems(set.data, at, false);
      for (const p of found) {
        if (p.path === formatPath(v.path)) problems.push({ path: at, message: p.message });
        else {
          const message = p.path ? `${p.path}: ${p.message}` : p.message;
          if (!aboutKey.has(message)) problems.push({ path: `--vary ${v.key}`, message });
          aboutKey.add(message);
        }
      }
    });
  }
  const size = varies.reduce((n, v) => n * v.values.length, varies.length ? 1 : 0);
  if (size > o.maxRuns) problems.push({ path: '--vary', message: `the grid has ${size} configs (${varies.map((v) => v.values.length).join(' x ')}), over --max-runs ${o.maxRuns}: vary fewer keys or values, or raise --max-runs` });
  if (problems.length) throw new InvalidFileError('<command line>', problems);

  const points: GridPoint[] = [];
  const combos: number[][] = [[]];
  for (const v of varies) combos.splice(0, combos.length, ...combos.flatMap((c) => v.values.map((_, i) => [...c, i])));
  for (const combo of combos) {
    let data = o.base;
    const values: Record<string, string> = {};
    combo.forEach((vi, k) => {
      data = setAt(data, varies[k].path, varies[k].values[vi]).data;
      values[varies[k].key] = varies[k].raw[vi];
    });
    const label = Object.entries(values).map(([k, v]) => `${k}=${v}`).join(', ');
    try {
      points.push({ index: points.length + 1, values, config: parseProxyConfig(data, label, { use: 'run' }) });
    } catch (err) {
      if (!(err instanceof InvalidFileError)) throw err;
      // values that pass alone and fail together (stress.release >= stress.threshold)
      for (const p of err.problems) problems.push({ path: `--vary ${label}`, message: `${p.path}: ${p.message}` });
    }
  }
  if (problems.length) throw new InvalidFileError('<command line>', problems);
  return { varies, points };
}
