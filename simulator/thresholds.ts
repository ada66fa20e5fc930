// k6 thresholds: `metric{tag:value}: ["p(95) < 2000", "rate >= 0.99", "== 0"]`.
// Parsing (here, up front, as scenario problems) is separate from evaluation
// (`evaluate`, against whatever source of metric values the run produced).

export type MetricType = 'counter' | 'rate' | 'trend' | 'gauge';
export type TagName = 'actor' | 'kind' | 'backend';

interface MetricInfo {
  type: MetricType;
  tags: readonly TagName[];
  help: string;
}

const ACTOR_TAGS = ['actor', 'kind'] as const;

/** Every metric a threshold may name: its type decides the aggregations, its tags what it may be filtered by. */
export const METRICS = {
  attempted: { type: 'counter', tags: ACTOR_TAGS, help: 'messages the actors tried to send' },
  accepted: { type: 'counter', tags: ACTOR_TAGS, help: 'messages the target answered 250 on the final dot' },
  delivered: { type: 'counter', tags: ACTOR_TAGS, help: 'accepted messages a backend received (ground truth)' },
  deferred: { type: 'counter', tags: ACTOR_TAGS, help: 'messages whose last answer was a 4xx' },
  rejected: { type: 'counter', tags: ACTOR_TAGS, help: 'messages whose last answer was a 5xx' },
  abandoned: { type: 'counter', tags: ACTOR_TAGS, help: 'messages without an answer (connection failed, reset, timeout)' },
  in_flight: { type: 'counter', tags: ACTOR_TAGS, help: 'messages still waiting for a reply (or to be sent) when the run ended' },
  lost: { type: 'counter', tags: ACTOR_TAGS, help: 'told 250, never received by a backend' },
  duplicates: { type: 'counter', tags: ACTOR_TAGS, help: 'extra copies a backend received' },
  delivered_ratio: { type: 'rate', tags: ACTOR_TAGS, help: 'delivered / attempted' },
  accepted_ratio: { type: 'rate', tags: ACTOR_TAGS, help: 'accepted / attempted' },
  deferred_ratio: { type: 'rate', tags: ACTOR_TAGS, help: 'deferred / attempted' },
  rejected_ratio: { type: 'rate', tags: ACTOR_TAGS, help: 'rejected / attempted' },
  abandoned_ratio: { type: 'rate', tags: ACTOR_TAGS, help: 'abandoned / attempted' },
  delivered_bytes: { type: 'counter', tags: ACTOR_TAGS, help: 'bytes of delivered messages' },
  latency: { type: 'trend', tags: ACTOR_TAGS, help: 'ms from the first attempt to backend receipt' },
  latency_p50: { type: 'gauge', tags: ACTOR_TAGS, help: 'shorthand for latency p(50)' },
  latency_p95: { type: 'gauge', tags: ACTOR_TAGS, help: 'shorthand for latency p(95)' },
  latency_p99: { type: 'gauge', tags: ACTOR_TAGS, help: 'shorthand for latency p(99)' },
  connections_attempted: { type: 'counter', tags: ACTOR_TAGS, help: 'connections the actors opened or tried' },
  connections_refused: { type: 'counter', tags: ACTOR_TAGS, help: 'connections refused (TCP, 421/554 banner, no banner)' },
  connections_greeted: { type: 'counter', tags: ACTOR_TAGS, help: 'connections that got a 220 banner' },
  connections_refused_ratio: { type: 'rate', tags: ACTOR_TAGS, help: 'refused / attempted connections' },
  connections_greeted_ratio: { type: 'rate', tags: ACTOR_TAGS, help: 'greeted / attempted connections' },
  relay_probes: { type: 'counter', tags: ACTOR_TAGS, help: 'open-relay tricks tried' },
  relay_accepted: { type: 'counter', tags: ACTOR_TAGS, help: 'open-relay tricks the target accepted (RCPT 250)' },
  smuggling_attempts: { type: 'counter', tags: ACTOR_TAGS, help: 'smuggling payloads sent' },
  smuggled: { type: 'counter', tags: ACTOR_TAGS, help: 'smuggled second messages that reached a backend' },
  received: { type: 'counter', tags: ['backend'], help: 'messages a backend received' },
  backend_share: { type: 'rate', tags: ['backend'], help: "a backend's share of all received messages" },
  peak_connections: { type: 'gauge', tags: ['backend'], help: 'peak concurrent sessions at a backend' },
} as const satisfies Record<string, MetricInfo>;

export type MetricName = keyof typeof METRICS;

export type Aggregation = 'count' | 'rate' | 'avg' | 'min' | 'max' | 'med' | 'value' | { p: number };
export type Operator = '<' | '<=' | '>' | '>=' | '==' | '!=';

const AGGREGATIONS: Record<MetricType, { allowed: readonly string[]; default: Aggregation | null }> = {
  counter: { allowed: ['count', 'rate'], default: 'count' },
  rate: { allowed: ['rate', 'count'], default: 'rate' },
  trend: { allowed: ['count', 'avg', 'min', 'max', 'med', 'p'], default: null },
  gauge: { allowed: ['value', 'min', 'max'], default: 'value' },
};

export interface ThresholdRule {
  /** as written in the scenario */
  source: string;
  aggregation: Aggregation;
  op: Operator;
  value: number;
}

export interface Threshold {
  /** the key as written: `latency{actor:office}` */
  key: string;
  metric: MetricName;
  tags: Partial<Record<TagName, string>>;
  rules: ThresholdRule[];
}

export interface ThresholdProblem {
  /** `''` for the key itself, `[i]` for a rule */
  at: string;
  message: string;
}

const KEY = /^\s*([a-z_][a-z0-9_]*)\s*(?:\{([^}]*)\})?\s*$/i;
const RULE = /^\s*(?:(count|rate|ratio|avg|min|max|med|value|p\(\s*(\d+(?:\.\d+)?)\s*\)))?\s*(<=|>=|==|===|!=|<|>)\s*(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*$/i;

export function formatAggregation(a: Aggregation): string {
  return typeof a === 'string' ? a : `p(${a.p})`;
}

/** Parses one `expect:` entry; problems say which part is wrong and what was expected. */
export function parseThreshold(key: string, rules: readonly string[]): { threshold?: Threshold; problems: ThresholdProblem[] } {
  const problems: ThresholdProblem[] = [];
  const m = KEY.exec(key);
  if (!m) return { problems: [{ at: '', message: 'expected METRIC or METRIC{tag:value}, like latency{actor:office}' }] };
  const metricName = m[1];
  if (!(metricName in METRICS)) {
    return { problems: [{ at: '', message: `unknown metric "${metricName}"; expected one of ${Object.keys(METRICS).join(', ')}` }] };
  }
  const metric = metricName as MetricName;
  const info: MetricInfo = METRICS[metric];
  const tags: Partial<Record<TagName, string>> = {};
  if (m[2] !== undefined) {
    for (const part of m[2].split(',')) {
      const tm = /^\s*([a-z]+)\s*:\s*([A-Za-z0-9_.-]+)\s*$/.exec(part);
      if (!tm) {
        problems.push({ at: '', message: `expected tag:value in {${m[2]}}, got "${part.trim()}"` });
        continue;
      }
      const tag = tm[1] as TagName;
      if (!info.tags.includes(tag)) {
        problems.push({ at: '', message: `metric ${metric} takes the tags ${info.tags.join(', ')}, not "${tm[1]}"` });
        continue;
      }
      tags[tag] = tm[2];
    }
  }
  if (!rules.length) problems.push({ at: '', message: 'expected at least one rule like "< 2000"' });
  const parsed: ThresholdRule[] = [];
  rules.forEach((source, i) => {
    const rule = parseRule(source, info.type);
    if (typeof rule === 'string') problems.push({ at: `[${i}]`, message: rule });
    else parsed.push(rule);
  });
  if (problems.length) return { problems };
  return { threshold: { key: key.trim(), metric, tags, rules: parsed }, problems };
}

function parseRule(source: string, type: MetricType): ThresholdRule | string {
  if (typeof source !== 'string') return `expected a rule like "p(95) < 2000", got ${JSON.stringify(source)}`;
  const m = RULE.exec(source);
  if (!m) return `expected a rule like "p(95) < 2000", "rate >= 0.99" or "== 0", got ${JSON.stringify(source)}`;
  const spec = AGGREGATIONS[type];
  let aggregation: Aggregation | null;
  if (!m[1]) aggregation = spec.default;
  else if (m[2] !== undefined) aggregation = { p: Number(m[2]) };
  else aggregation = (m[1].toLowerCase() === 'ratio' ? 'rate' : m[1].toLowerCase()) as Aggregation;
  if (aggregation === null) return `a ${type} needs an aggregation (${spec.allowed.map((a) => (a === 'p' ? 'p(N)' : a)).join(', ')}), like "p(95) < 2000"`;
  const aggName = typeof aggregation === 'string' ? aggregation : 'p';
  if (!spec.allowed.includes(aggName)) {
    return `a ${type} metric takes ${spec.allowed.map((a) => (a === 'p' ? 'p(N)' : a)).join(', ')}, not ${formatAggregation(aggregation)}`;
  }
  if (typeof aggregation === 'object' && (aggregation.p < 0 || aggregation.p > 100)) return `expected p(N) with 0 <= N <= 100`;
  const op = (m[3] === '===' ? '==' : m[3]) as Operator;
  return { source: source.trim(), aggregation, op, value: Number(m[4]) };
}

// ---- evaluation ----

/** What a run measured for one metric and tag set. */
export type MetricValue =
  | { type: 'counter'; count: number; perSecond: number }
  | { type: 'rate'; passes: number; total: number }
  | { type: 'trend'; values: readonly number[] }
  | { type: 'gauge'; value: number | null };

export interface MetricSource {
  value(metric: MetricName, tags: Partial<Record<TagName, string>>): MetricValue;
}

export interface ThresholdResult {
  metric: string;
  rule: string;
  /** null when there was nothing to measure (no samples): such a rule fails */
  value: number | null;
  ok: boolean;
}

export function percentile(sorted: readonly number[], p: number): number | null {
  if (!sorted.length) return null;
  // linear interpolation between closest ranks, as k6 does
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

export function aggregate(v: MetricValue, a: Aggregation): number | null {
  switch (v.type) {
    case 'counter':
      return a === 'rate' ? v.perSecond : v.count;
    case 'rate':
      if (a === 'count') return v.passes;
      return v.total ? v.passes / v.total : null;
    case 'gauge':
      return v.value;
    case 'trend': {
      const values = [...v.values].sort((x, y) => x - y);
      if (a === 'count') return values.length;
      if (!values.length) return null;
      if (a === 'avg') return values.reduce((s, x) => s + x, 0) / values.length;
      if (a === 'min') return values[0];
      if (a === 'max') return values[values.length - 1];
      if (a === 'med') return percentile(values, 50);
      if (typeof a === 'object') return percentile(values, a.p);
      return null;
    }
  }
}

export function compare(value: number, op: Operator, limit: number): boolean {
  switch (op) {
    case '<':
      return value < limit;
    case '<=':
      return value <= limit;
    case '>':
      return value > limit;
    case '>=':
      return value >= limit;
    case '==':
      return value === limit;
    case '!=':
      return value !== limit;
  }
}

export function evaluate(thresholds: readonly Threshold[], source: MetricSource): ThresholdResult[] {
  const out: ThresholdResult[] = [];
  for (const t of thresholds) {
    const measured = source.value(t.metric, t.tags);
    for (const rule of t.rules) {
      const raw = aggregate(measured, rule.aggregation);
      const value = raw === null ? null : Math.round(raw * 10_000) / 10_000;
      out.push({ metric: t.key, rule: rule.source, value, ok: raw !== null && compare(raw, rule.op, rule.value) });
    }
  }
  return out;
}
