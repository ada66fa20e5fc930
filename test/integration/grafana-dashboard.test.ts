// contrib/grafana-attitude.json asks Prometheus only for metrics the proxy has: every
// metric name in its PromQL is declared on a real /metrics page, and (with promtool)
// every query parses.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { busyProxy, declaredNames } from '../helpers/metrics.ts';
import { closeAll } from '../helpers/proxy.ts';
import { run, toolsMissing } from '../helpers/postfix-tools.ts';
import type { Proxy } from '../../proxy/proxy.ts';
import type { MockBackend } from '../../simulator/mock-backend.ts';

const FILE = path.resolve(import.meta.dirname, '../../contrib/grafana-attitude.json');

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Array<{ expr: string; refId: string }>;
  panels?: Panel[];
}

const dashboard = JSON.parse(readFileSync(FILE, 'utf8')) as { uid: string; panels: Panel[]; templating: { list: Array<{ name: string; definition?: string }> } };
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const queries = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

/** PromQL words that are not metric names: keywords, and what follows `by`/`without` and friends. */
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

/** The metric names a PromQL expression selects (functions, label names, strings and ranges left out). */
function metricNamesOf(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const names: string[] = [];
  for (const m of bare.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) if (!m[2] && !KEYWORDS.has(m[1])) names.push(m[1]);
  return names;
}

/** Grafana's variables as a query would see them, so promtool can parse it. */
const asPromql = (expr: string) => expr.replace(/\$__rate_interval/g, '5m').replace(/\$instance/g, '.*');

let proxy: Proxy | undefined;
let mocks: MockBackend[] = [];
afterEach(async () => {
  await closeAll(proxy, mocks);
  proxy = undefined;
  mocks = [];
});

describe('the Grafana dashboard', () => {
  it('reads metric names out of PromQL the way the test relies on', () => {
    expect(metricNamesOf('histogram_quantile(0.95, sum by (le, backend) (rate(a_bucket{outcome="x",instance=~"$instance"}[$__rate_interval])))')).toEqual(['a_bucket']);
    expect(metricNamesOf('sum(b{x="y"}) / sum without (instance) (c) and on (backend) d')).toEqual(['b', 'c', 'd']);
  });

  it('is one dashboard of distinct panels on the datasource variable, each query naming attitude metrics', () => {
    expect(dashboard.uid).toBe('attitude-proxy');
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    expect(queries.length).toBeGreaterThan(20);
    for (const p of panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      if (p.type !== 'row') expect(p.datasource?.uid, p.title).toBe('${datasource}');
    }
    for (const q of queries) expect(metricNamesOf(q.expr).length, `${q.panel}: ${q.expr}`).toBeGreaterThan(0);
  });

  it('uses only metrics a real proxy declares on /metrics', async () => {
    const busy = await busyProxy();
    proxy = busy.proxy;
    mocks = busy.mocks;
    const declared = declaredNames(await busy.metrics());
    const used = new Set(queries.flatMap((q) => metricNamesOf(q.expr)));
    for (const v of dashboard.templating.list) {
      const m = /^label_values\((\w+),/.exec(v.definition ?? '');
      if (m) used.add(m[1]);
    }
    const unknown = [...used].filter((n) => !declared.has(n));
    expect(unknown).toEqual([]);
    // the README's metrics are all on the dashboard
    for (const name of ['attitude_connections_total', 'attitude_connections_active', 'attitude_refusals_total', 'attitude_transactions_total', 'attitude_backend_messages_total',
      'attitude_backend_up', 'attitude_backend_active', 'attitude_backend_connections', 'attitude_transaction_duration_seconds_bucket', 'attitude_failovers_total',
      'attitude_throttle_wait_seconds_total', 'attitude_throttled_bytes_total', 'attitude_process_cpu_seconds_total', 'attitude_connections_max',
      'attitude_stress_active', 'attitude_stress_changes_total'])
      expect(used, name).toContain(name);
  });

  it.skipIf(toolsMissing('promtool'))('has queries that Prometheus parses (promtool check rules)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'attitude-dashboard-'));
    try {
      const file = path.join(dir, 'rules.yaml');
      const rules = queries.map((q, i) => ({ record: `attitude:dashboard_query_${i}`, expr: asPromql(q.expr) }));
      writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
      const r = await run('promtool', ['check', 'rules', file]);
      expect(r.stderr + r.stdout).toContain(`SUCCESS: ${rules.length} rules found`);
      expect(r.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
