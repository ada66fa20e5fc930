import { describe, expect, it } from 'vitest';
import { aggregate, evaluate, parseThreshold, percentile, type MetricSource, type MetricValue } from '../../simulator/thresholds.ts';

describe('threshold parsing', () => {
  it('reads metric, tags and rules with k6 aggregations', () => {
    const { threshold, problems } = parseThreshold('latency{actor:office}', ['p(95) < 2000', 'avg<=500', 'med < 300', 'max < 5000', 'count > 10', 'p(99.9) < 9000']);
    expect(problems).toEqual([]);
    expect(threshold?.metric).toBe('latency');
    expect(threshold?.tags).toEqual({ actor: 'office' });
    expect(threshold?.rules.map((r) => [r.aggregation, r.op, r.value])).toEqual([
      [{ p: 95 }, '<', 2000],
      ['avg', '<=', 500],
      ['med', '<', 300],
      ['max', '<', 5000],
      ['count', '>', 10],
      [{ p: 99.9 }, '<', 9000],
    ]);
  });

  it('defaults the aggregation by metric type: rate for ratios, count for counters, value for gauges', () => {
    expect(parseThreshold('delivered_ratio{actor:office}', ['>= 0.99']).threshold?.rules[0].aggregation).toBe('rate');
    expect(parseThreshold('delivered_ratio', ['ratio >= 0.99']).threshold?.rules[0].aggregation).toBe('rate');
    expect(parseThreshold('lost', ['== 0']).threshold?.rules[0]).toMatchObject({ aggregation: 'count', op: '==', value: 0 });
    expect(parseThreshold('latency_p95{kind:legit}', ['< 2000']).threshold?.rules[0].aggregation).toBe('value');
    expect(parseThreshold('received{backend:mx1}', ['count > 0', '===3']).threshold?.rules.map((r) => r.op)).toEqual(['>', '==']);
  });

  it('says what is wrong with a bad key or rule', () => {
    expect(parseThreshold('nope', ['< 1']).problems[0].message).toMatch(/unknown metric "nope"/);
    expect(parseThreshold('latency{actor office}', ['p(95) < 1']).problems[0].message).toMatch(/expected tag:value/);
    expect(parseThreshold('latency{backend:mx1}', ['p(95) < 1']).problems[0].message).toMatch(/takes the tags actor, kind/);
    expect(parseThreshold('latency', ['< 1']).problems[0]).toEqual({ at: '[0]', message: expect.stringMatching(/trend needs an aggregation/) });
    expect(parseThreshold('lost', ['p(95) < 1']).problems[0].message).toMatch(/counter metric takes count, rate, not p\(95\)/);
    expect(parseThreshold('lost', ['about zero']).problems[0].message).toMatch(/expected a rule like/);
    expect(parseThreshold('latency', ['p(120) < 1']).problems[0].message).toMatch(/0 <= N <= 100/);
    expect(parseThreshold('lost', []).problems[0].message).toMatch(/at least one rule/);
    expect(parseThreshold('lost{', ['== 0']).problems[0].message).toMatch(/expected METRIC/);
  });
});

describe('threshold evaluation', () => {
  it('aggregates trends like k6 (linear interpolation between ranks)', () => {
    const v: MetricValue = { type: 'trend', values: [50, 10, 40, 20, 30] };
    expect(aggregate(v, 'min')).toBe(10);
    expect(aggregate(v, 'max')).toBe(50);
    expect(aggregate(v, 'avg')).toBe(30);
    expect(aggregate(v, 'med')).toBe(30);
    expect(aggregate(v, 'count')).toBe(5);
    expect(aggregate(v, { p: 95 })).toBeCloseTo(48);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(aggregate({ type: 'trend', values: [] }, { p: 95 })).toBeNull();
  });

  it('passes and fails rules on measured values; no data fails', () => {
    const values: Record<string, MetricValue> = {
      delivered_ratio: { type: 'rate', passes: 99, total: 100 },
      lost: { type: 'counter', count: 2, perSecond: 0.2 },
      latency: { type: 'trend', values: [100, 200, 300] },
      accepted_ratio: { type: 'rate', passes: 0, total: 0 },
    };
    const source: MetricSource = { value: (metric) => values[metric] };
    const parse = (key: string, rules: string[]) => parseThreshold(key, rules).threshold!;
    const results = evaluate(
      [parse('delivered_ratio', ['>= 0.99', '> 0.99']), parse('lost', ['== 0', 'count <= 2', 'rate < 1']), parse('latency', ['p(50) == 200', 'max < 300']), parse('accepted_ratio', ['<= 0.2'])],
      source,
    );
    expect(results.map((r) => [r.metric, r.rule, r.value, r.ok])).toEqual([
      ['delivered_ratio', '>= 0.99', 0.99, true],
      ['delivered_ratio', '> 0.99', 0.99, false],
      ['lost', '== 0', 2, false],
      ['lost', 'count <= 2', 2, true],
      ['lost', 'rate < 1', 0.2, true],
      ['latency', 'p(50) == 200', 200, true],
      ['latency', 'max < 300', 300, false],
      ['accepted_ratio', '<= 0.2', null, false],
    ]);
  });

  it('passes tags through to the source', () => {
    const seen: unknown[] = [];
    const source: MetricSource = {
      value: (metric, tags) => {
        seen.push([metric, tags]);
        return { type: 'counter', count: 0, perSecond: 0 };
      },
    };
    evaluate([parseThreshold('received{backend:mx2}', ['> 0']).threshold!], source);
    expect(seen).toEqual([['received', { backend: 'mx2' }]]);
  });
});
