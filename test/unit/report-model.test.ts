// The run model the reports read: counts, per-second series, the log of notable
// events and the defenses, fed with a small hand-made event stream.
import { describe, expect, it } from 'vitest';
import type { SimEvent } from '../../simulator/events.ts';
import { backendsChart, bandwidthChart, chartScale, connectionsChart, latencyChart, liveCharts, refusalsChart, timeCharts, type Chart } from '../../reports/model/charts.ts';
import { lineChartSvg } from '../../reports/files/svg.ts';
import { formatLogEntry } from '../../reports/model/event-log.ts';
import { modelOf } from '../../reports/model/run-model.ts';
import { runStart, stream } from './report-fixtures.ts';

describe('RunModel', () => {
  it('counts per actor, with delivered from what the backends received', () => {
    const m = modelOf(stream());
    const office = m.actors.get('office')!;
    expect(office).toMatchObject({ kind: 'legit', clients: 2, attempted: 3, accepted: 2, delivered: 2, deferred: 1, connAttempted: 3, connGreeted: 3 });
    const bots = m.actors.get('bots')!;
    expect(bots).toMatchObject({ kind: 'flood', connAttempted: 4, connRefused: 3 });
    expect(m.backends.get('mx1')).toMatchObject({ received: 1, peak: 2, sessions: 0, capacity: 10, health: 'down' });
    expect(m.backends.get('mx2')).toMatchObject({ received: 2, proxyMax: 50 });
    expect(m.phase).toBe('ended');
    expect(m.info?.scenario).toBe('fixture');
  });

  it('keeps the proxy connections, its cap and its throttle limits from the state samples', () => {
    const m = modelOf(stream());
    expect(m.proxyConnections()).toEqual({ active: 7, max: 100 });
    expect(m.throttleLimits()).toEqual({ perClient: 1024, global: 4096 });
    const chart = connectionsChart(m);
    expect(chart.series.map((s) => s.name)).toEqual(['proxy connections', 'connections.max', 'open (senders)']);
    // carried forward through seconds without a sample
    expect(chart.series[0].values).toEqual([null, 5, 7, 7]);
    expect(chart.series[1].values).toEqual([null, 100, 100, 100]);
  });

  it('measures legitimate delivery latency per second of receipt, from the first copy', () => {
    const m = modelOf(stream());
    const { series } = latencyChart(m);
    // office-1 tried at 100 and arrived at 300; office-2 tried at 1200 and arrived at 1700
    expect(series[0].values).toEqual([200, 500, null, null]);
  });

  it('plots the throttle as the rate of each held client against the per-client limit', () => {
    const m = modelOf(stream());
    const chart = bandwidthChart(m);
    const perClient = chart.series.find((s) => s.name === 'throttled, per held client')!;
    // 2048 bytes held over two clients in second 2: 1 KB/s each
    expect(perClient.values).toEqual([null, null, 1, null]);
    expect(chart.series.find((s) => s.name === 'per-client limit')!.values).toEqual([1, 1, 1, 1]);
    const accepted = chart.series[0];
    expect(accepted.values[0]).toBeCloseTo(2, 5); // office-1, 2048 bytes, accepted at 0.35s
  });

  it('captions what is drawn: an external target reports no state, so no cap and no throttle line', () => {
    const external = modelOf([runStart({ target: '127.0.0.1:2925', proxyConfig: null, external: true }), ...stream().filter((e) => e.type !== 'run.start' && e.type !== 'proxy.state' && e.type !== 'throttle' && e.type !== 'proxy.event')]);
    const conns = connectionsChart(external);
    expect(conns.series.map((s) => s.name)).toEqual(['open (senders)']);
    expect(conns.note).toMatch(/the target reports no state of its own, so no cap is drawn/);
    expect(bandwidthChart(external).note).toMatch(/reports no throttle of its own/);
    expect(refusalsChart(external).note).toMatch(/class of each reply/);
    expect(refusalsChart(modelOf(stream())).note).toMatch(/by the limit or filter that fired/);
  });

  it('draws the per-client cap where the lesson is about it', () => {
    const lesson = 'With `connections.perClient: 10` each bot holds ten.';
    const events = stream().map((e) => (e.type === 'run.start' ? { ...e, lesson, proxyLimits: { perClient: 1 } } : e));
    const chart = connectionsChart(modelOf(events));
    const held = chart.series.find((s) => s.name === 'most held by one client')!;
    expect(held.values.every((v) => v === null || v <= 2)).toBe(true);
    expect(chart.series.find((s) => s.name === 'connections.perClient')).toMatchObject({ limit: true });
    expect(chart.note).toMatch(/against connections\.perClient/);
    expect(connectionsChart(modelOf(stream())).series.some((s) => s.name === 'most held by one client')).toBe(false);
  });

  it('marks outages on every time chart', () => {
    const m = modelOf(stream());
    for (const chart of timeCharts(m)) {
      expect(chart.spans).toEqual([{ from: 2, to: 4, label: 'mx1 down' }]);
      expect(chart.note).toMatch(/Shaded: a backend down/);
    }
    expect(lineChartSvg(backendsChart(m))).toMatch(/<rect [^>]*fill="#d62728" fill-opacity="0\.10"><title>mx1 down from 2s to 4s<\/title>/);
  });

  it('orders the charts by what the lesson is about, as it mentions it', () => {
    const lesson = 'The backends share the load, and p95 latency stays low.';
    const m = modelOf(stream().map((e) => (e.type === 'run.start' ? { ...e, lesson } : e)));
    expect(timeCharts(m).map((c) => c.id)).toEqual(['backends', 'latency', 'connections', 'bandwidth', 'refusals']);
    expect(liveCharts(m).map((c) => c.id)).toEqual(['backends', 'latency', 'bandwidth', 'refusals']);
  });

  it('names a limit far above the data instead of drawing it', () => {
    const chart: Chart = { id: 'latency', title: 'x', short: 'x', unit: '', note: '', spans: [], series: [{ name: 'data', values: [1, 2] }, { name: 'near', values: [3, 3], limit: true }, { name: 'far', values: [500, 500], limit: true }] };
    const scale = chartScale(chart);
    expect(scale.offScale(chart.series[1])).toBe(false);
    expect(scale.offScale(chart.series[2])).toBe(true);
    expect(scale.max).toBe(3);
  });

  it('logs notable events and folds a burst of identical refusals into one line with a count', () => {
    const m = modelOf(stream());
    const lines = m.log.entries.map(formatLogEntry);
    expect(lines).toContainEqual(expect.stringMatching(/bots: banner 421 4\.7\.0 connections-per-client ×3$/));
    expect(lines).toContainEqual(expect.stringMatching(/▶ the flood starts \(predict: will the office notice\?\)/));
    expect(lines).toContainEqual(expect.stringMatching(/backend mx1 goes down/));
    expect(lines).toContainEqual(expect.stringMatching(/failover away from mx1/));
    expect(lines).toContainEqual(expect.stringMatching(/office: rcpt 450 4\.7\.1 message-rate$/));
  });

  it('tallies the defenses from the proxy refusals and the throttle samples', () => {
    const d = modelOf(stream()).defenses.result();
    expect(d.source).toBe('proxy');
    expect(d.refusals).toEqual([
      { reason: 'connections-per-client', code: 421, enhanced: '4.7.0', stage: 'connect', count: 3 },
      { reason: 'message-rate', code: 450, enhanced: '4.7.1', stage: 'rcpt', count: 1 },
    ]);
    expect(d.trouble.map((t) => t.reason)).toEqual(['no-backend']);
    expect(d.throttle).toEqual({ bytes: 2048, waitMs: 900, peakClients: 2, samples: 1 });
  });

  it('falls back to the replies the senders got when the proxy is external', () => {
    const external = stream().filter((e) => e.type !== 'proxy.event' && e.type !== 'proxy.state' && e.type !== 'throttle');
    const d = modelOf(external).defenses.result();
    expect(d.source).toBe('senders');
    expect(d.refusals.map((r) => [r.reason, r.stage, r.count])).toEqual([
      ['connections-per-client', 'connect', 3],
      ['message-rate', 'rcpt', 1],
    ]);
  });

  it('takes a stream that starts mid-way without crashing', () => {
    const events: SimEvent[] = [{ type: 'conn.attempt', t: 5, actor: 'x', client: '127.0.0.9', conn: 1 }, runStart()];
    const m = modelOf(events);
    expect(m.actors.get('x')!.connAttempted).toBe(1);
  });
});
