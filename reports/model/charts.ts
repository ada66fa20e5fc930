// Chart-ready series of a run, shared by the TUI's line charts and report.html's
// SVG: what to plot is decided once, how to draw it by each renderer.
import { chartsForLesson, isAbout } from './lesson.ts';
import type { RunModel } from './run-model.ts';
import { BUCKET_MS, Timeline } from './timeline.ts';

export interface Series {
  name: string;
  values: Array<number | null>;
  /** a limit is drawn dashed: the line the data should stay under */
  limit?: boolean;
}

export type ChartId = 'connections' | 'bandwidth' | 'backends' | 'refusals' | 'latency';

/** A stretch of the run marked on every time chart (a backend's outage), in seconds. */
export interface Span {
  from: number;
  to: number;
  label: string;
}

export interface Chart {
  id: ChartId;
  title: string;
  /** for a small panel */
  short: string;
  unit: string;
  /** the first value is second 0 of the run */
  series: Series[];
  /** what to look for, one sentence about what is drawn (the report prints it under the chart) */
  note: string;
  spans: Span[];
}

const KB = 1024;

/** The backends' outages as spans of whole seconds (one still going ends with the run). */
export function outageSpans(m: RunModel): Span[] {
  const end = m.timeline.seconds;
  return m.outages.map((o) => ({ from: Timeline.second(o.from), to: o.to === null ? end : Math.max(Timeline.second(o.from) + 1, Math.ceil(o.to / BUCKET_MS)), label: `${o.backend} down` }));
}

const outagesNote = (spans: Span[]) => (spans.length ? ' Shaded: a backend down.' : '');

export function connectionsChart(m: RunModel): Chart {
  const n = m.timeline.seconds;
  const tl = m.timeline;
  const series: Series[] = [];
  const notes: string[] = [];
  if (tl.proxyConnections.seen) {
    series.push({ name: 'proxy connections', values: tl.proxyConnections.upTo(n) });
    series.push({ name: 'connections.max', values: tl.proxyMax.upTo(n), limit: true });
    notes.push('Concurrent connections at the proxy against its global cap (dashed).');
  }
  series.push({ name: 'open (senders)', values: tl.clientConnections.upTo(n) });
  if (!tl.proxyConnections.seen) notes.push('Connections open as the senders see them (greeted, not yet closed); the target reports no state of its own, so no cap is drawn.');
  // where the lesson is about the per-client cap, the chart shows what one client holds against it
  if (isAbout(m.info?.lesson ?? '', 'per-client')) {
    series.push({ name: 'most held by one client', values: tl.clientPeak.upTo(n) });
    const cap = m.info?.proxyLimits?.perClient;
    if (cap) {
      series.push({ name: 'connections.perClient', values: Array(n).fill(cap), limit: true });
      notes.push('The most connections one client address held, against connections.perClient: a flood pushes it up to the dashed line and no further.');
    } else notes.push("The most connections one client address held: a target's per-client cap shows as the level it never passes.");
  }
  const spans = outageSpans(m);
  return { id: 'connections', title: 'Connections over time', short: 'connections', unit: 'conns', series, note: notes.join(' ') + outagesNote(spans), spans };
}

export function bandwidthChart(m: RunModel): Chart {
  const n = m.timeline.seconds;
  const tl = m.timeline;
  const { perClient, global } = m.throttleLimits();
  const held = tl.throttledClients.upTo(n);
  const throttled = tl.throttled.upTo(n);
  const series: Series[] = [{ name: 'accepted (all senders)', values: tl.accepted.upTo(n).map((b) => b / KB) }];
  let note = 'Bytes of accepted mail per second from all senders.';
  if (tl.throttled.values.length) {
    // what one held client got through: it should hug the per-client limit, never pass it
    series.push({ name: 'throttled, per held client', values: throttled.map((b, i) => (held[i] ? b / held[i] / KB : null)) });
    note += ' And the rate of each client the throttle held back';
    note += perClient !== null ? ', against the per-client limit (dashed).' : '.';
  } else if (perClient === null && global === null) note += " The target reports no throttle of its own, so no limit is drawn.";
  if (perClient !== null) series.push({ name: 'per-client limit', values: Array(n).fill(perClient / KB), limit: true });
  if (global !== null) series.push({ name: 'global limit', values: Array(n).fill(global / KB), limit: true });
  const spans = outageSpans(m);
  return { id: 'bandwidth', title: 'Inbound bandwidth against the throttle', short: 'bandwidth', unit: 'KB/s', series, note: note + outagesNote(spans), spans };
}

export function backendsChart(m: RunModel): Chart {
  const n = m.timeline.seconds;
  const series = [...m.backends.keys()].map((name) => ({ name, values: m.timeline.receivedBy(name).upTo(n) as Array<number | null> }));
  const spans = outageSpans(m);
  return { id: 'backends', title: 'Messages per backend', short: 'per backend', unit: 'msg/s', series, note: 'Messages each backend received per second: does the balancing hold, and does a failover move the load?' + outagesNote(spans), spans };
}

export function refusalsChart(m: RunModel, top = 4): Chart {
  const series = m.timeline.topRefusals(top).map(([name, values]) => ({ name, values: values as Array<number | null> }));
  const how = m.info?.external
    ? 'by the class of each reply (its code, enhanced code and text); a connection that got no reply at all is named by how it ended.'
    : 'by the limit or filter that fired.';
  const spans = outageSpans(m);
  return { id: 'refusals', title: 'Refusals by reason', short: 'refusals', unit: '/s', series, note: `Refused connections and commands per second, ${how}` + outagesNote(spans), spans };
}

export function latencyChart(m: RunModel): Chart {
  const { p50, p95 } = m.timeline.latencyPercentiles();
  const spans = outageSpans(m);
  return {
    id: 'latency',
    title: 'Delivery latency of legitimate mail',
    short: 'legit latency',
    unit: 'ms',
    series: [
      { name: 'p50', values: p50 },
      { name: 'p95', values: p95 },
    ],
    note: 'From the first attempt to receipt at a backend, per second of receipt (retries included).' + outagesNote(spans),
    spans,
  };
}

/** Every time chart, in the order a report shows them: what the lesson is about first. */
export function timeCharts(m: RunModel, top?: number): Chart[] {
  return chartsForLesson([connectionsChart(m), bandwidthChart(m), backendsChart(m), refusalsChart(m, top), latencyChart(m)], m.info?.lesson ?? '');
}

/** The TUI's charts: the connections chart only where it has more to say than the gauges (the per-client cap). */
export function liveCharts(m: RunModel): Chart[] {
  const about = isAbout(m.info?.lesson ?? '', 'per-client');
  return timeCharts(m).filter((c) => c.id !== 'connections' || about);
}

/** A round upper bound for an axis: 1, 2, 2.5 or 5 times a power of ten (its fifths are round too). */
export function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
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

