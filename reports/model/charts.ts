// Chart-ready series of a run, shared by the TUI's line charts and report.html's
// SVG: what to plot is decided once, how to draw it by each renderer.
import type { RunModel } from './run-model.ts';

export interface Series {
  name: string;
  values: Array<number | null>;
  /** a limit is drawn dashed: the line the data should stay under */
  limit?: boolean;
}

export interface Chart {
  id: string;
  title: string;
  /** for a small panel */
  short: string;
  unit: string;
  /** the first value is second 0 of the run */
  series: Series[];
  /** what to look for, one sentence (the report prints it under the chart) */
  note: string;
}

const KB = 1024;

export function connectionsChart(m: RunModel): Chart {
  const n = m.timeline.seconds;
  const tl = m.timeline;
  const series: Series[] = [];
  if (tl.proxyConnections.seen) {
    series.push({ name: 'proxy connections', values: tl.proxyConnections.upTo(n) });
    series.push({ name: 'connections.max', values: tl.proxyMax.upTo(n), limit: true });
  }
  series.push({ name: 'open (senders)', values: tl.clientConnections.upTo(n) });
  return { id: 'connections', title: 'Connections over time', short: 'connections', unit: 'conns', series, note: 'Concurrent connections at the proxy against its global cap; a flood pushes the first line up to the dashed one.' };
}

export function bandwidthChart(m: RunModel): Chart {
  const n = m.timeline.seconds;
  const tl = m.timeline;
  const { perClient, global } = m.throttleLimits();
  const held = tl.throttledClients.upTo(n);
  const throttled = tl.throttled.upTo(n);
  const series: Series[] = [
    { name: 'accepted (all senders)', values: tl.accepted.upTo(n).map((b) => b / KB) },
    // what one held client got through: it should hug the per-client limit, never pass it
    { name: 'throttled, per held client', values: throttled.map((b, i) => (held[i] ? b / held[i] / KB : null)) },
  ];
  if (perClient !== null) series.push({ name: 'per-client limit', values: Array(n).fill(perClient / KB), limit: true });
  if (global !== null) series.push({ name: 'global limit', values: Array(n).fill(global / KB), limit: true });
  return {
    id: 'bandwidth',
    title: 'Inbound bandwidth against the throttle',
    short: 'bandwidth',
    unit: 'KB/s',
    series,
    note: 'Bytes of accepted mail per second from all senders, and the rate of each client the throttle held back, against the per-client limit.',
  };
}

export function backendsChart(m: RunModel): Chart {
  const n = m.timeline.seconds;
  const series = [...m.backends.keys()].map((name) => ({ name, values: m.timeline.receivedBy(name).upTo(n) as Array<number | null> }));
  return { id: 'backends', title: 'Messages per backend', short: 'per backend', unit: 'msg/s', series, note: 'Messages each backend received per second: does the balancing hold, and does a failover move the load?' };
}

export function refusalsChart(m: RunModel, top = 4): Chart {
  const series = m.timeline.topRefusals(top).map(([name, values]) => ({ name, values: values as Array<number | null> }));
  return { id: 'refusals', title: 'Refusals by reason', short: 'refusals', unit: '/s', series, note: 'Refused connections and commands per second, by the limit or filter that fired.' };
}

export function latencyChart(m: RunModel): Chart {
  const { p50, p95 } = m.timeline.latencyPercentiles();
  return {
    id: 'latency',
    title: 'Delivery latency of legitimate mail',
    short: 'legit latency',
    unit: 'ms',
    series: [
      { name: 'p50', values: p50 },
      { name: 'p95', values: p95 },
    ],
    note: 'From the first attempt to receipt at a backend, per second of receipt (retries included).',
  };
}

export function liveCharts(m: RunModel): Chart[] {
  return [bandwidthChart(m), backendsChart(m), refusalsChart(m), latencyChart(m)];
}

/** The largest value of a series, 0 when it has none. */
export function seriesMax(values: Array<number | null>): number {
  return Math.max(0, ...values.filter((v): v is number => v !== null));
}

/**
 * The scale a chart is drawn at: its data, and the limits near it. A limit far
 * above the data (a 50 MB/s global cap over 200 KB/s of mail) would flatten every
 * line against the axis, so it is named in the legend instead of drawn.
 */
export function chartScale(chart: Chart): { max: number; offScale: (s: Series) => boolean } {
  const dataMax = Math.max(0, ...chart.series.filter((s) => !s.limit).map((s) => seriesMax(s.values)));
  const offScale = (s: Series) => !!s.limit && dataMax > 0 && seriesMax(s.values) > dataMax * 5;
  const max = Math.max(dataMax, ...chart.series.filter((s) => s.limit && !offScale(s)).map((s) => seriesMax(s.values)));
  return { max, offScale };
}

