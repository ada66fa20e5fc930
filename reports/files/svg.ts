// Inline SVG charts for the HTML reports: no script, no fonts or styles to
// fetch, so a report opens anywhere, offline, years later. Every text is escaped.
import { chartScale, niceMax, seriesMax, type Chart } from '../model/charts.ts';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export const PALETTE = ['#2f7ed8', '#f28f43', '#1aadce', '#8bbc21', '#910000', '#492970', '#77a1e5', '#c42525'];
const LIMIT_COLORS = ['#d62728', '#7f0000'];

/** What one character of 11 px text takes, about (no fonts are measured in a self-contained file). */
export const TEXT_WIDTH = 6.2;

const fmt = (v: number) => (Math.abs(v) >= 10_000 ? `${Math.round(v / 1000)}k` : Math.abs(v) >= 100 || Number.isInteger(v) ? String(Math.round(v)) : v.toFixed(1));

/** How many steps the axis up to a `niceMax` value takes so each step is round too. */
function yTicks(max: number): number {
  const lead = max / 10 ** Math.floor(Math.log10(max));
  return lead === 2 ? 4 : 5;
}

interface Box {
  width: number;
  height: number;
}

interface LegendItem {
  name: string;
  color: string;
  dashed: boolean;
}

/** Legend entries in rows that fit the width. */
function legendRows(items: LegendItem[], width: number): LegendItem[][] {
  const rows: LegendItem[][] = [[]];
  let used = 0;
  for (const item of items) {
    const w = 30 + item.name.length * 6.2;
    if (used + w > width && rows[rows.length - 1].length) {
      rows.push([]);
      used = 0;
    }
    rows[rows.length - 1].push(item);
    used += w;
  }
  return rows;
}

/** A line chart of per-second series; limits are dashed; a limit far above the data is named instead of drawn. */
export function lineChartSvg(chart: Chart, box: Box = { width: 640, height: 240 }): string {
  const { max, offScale } = chartScale(chart);
  let color = 0;
  let limits = 0;
  const legend: LegendItem[] = chart.series.map((s) => ({
    name: offScale(s) ? `${s.name} ${fmt(seriesMax(s.values))} (off the scale)` : s.name,
    color: s.limit ? LIMIT_COLORS[limits++ % LIMIT_COLORS.length] : PALETTE[color++ % PALETTE.length],
    dashed: !!s.limit,
  }));
  const m = { left: 52, right: 14, top: 14, bottom: 26 };
  const rows = legendRows(legend, box.width - m.left);
  const legendTop = box.height - m.bottom + 34;
  const height = legendTop + rows.length * 16 - 4;
  const w = box.width - m.left - m.right;
  const h = box.height - m.top - m.bottom;
  const n = Math.max(2, ...chart.series.map((s) => s.values.length));
  const yMax = niceMax(max * 1.1);
  const x = (i: number) => m.left + (i / (n - 1)) * w;
  const y = (v: number) => m.top + h - (Math.min(v, yMax * 1.02) / yMax) * h;
  const parts: string[] = [];
  parts.push(`<svg viewBox="0 0 ${box.width} ${height}" width="${box.width}" height="${height}" role="img" aria-label="${escapeHtml(chart.title)}">`);
  parts.push(`<title>${escapeHtml(chart.title)} (${escapeHtml(chart.unit)})</title>`);
  const ticks = yTicks(yMax);
  for (let i = 0; i <= ticks; i++) {
    const v = (yMax * i) / ticks;
    parts.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e3e3e3"/>`);
    parts.push(`<text x="${m.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#555">${fmt(v)}</text>`);
  }
  // outages first, so every line is drawn over them
  for (const s of chart.spans) {
    const x0 = x(Math.min(s.from, n - 1));
    const x1 = x(Math.min(s.to, n - 1));
    parts.push(`<rect x="${x0.toFixed(1)}" y="${m.top}" width="${Math.max(2, x1 - x0).toFixed(1)}" height="${h}" fill="#d62728" fill-opacity="0.10"><title>${escapeHtml(`${s.label} from ${s.from}s to ${s.to}s`)}</title></rect>`);
    parts.push(`<text x="${(x0 + 3).toFixed(1)}" y="${m.top + 11}" font-size="10" fill="#9b1c1c">${escapeHtml(s.label)}</text>`);
  }
  const step = Math.max(1, Math.ceil(n / 12));
  for (let i = 0; i < n; i += step) parts.push(`<text x="${x(i).toFixed(1)}" y="${m.top + h + 15}" text-anchor="middle" font-size="11" fill="#555">${i}s</text>`);
  parts.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + h}" stroke="#888"/><line x1="${m.left}" x2="${m.left + w}" y1="${m.top + h}" y2="${m.top + h}" stroke="#888"/>`);
  chart.series.forEach((s, k) => {
    if (offScale(s)) return;
    const { color: c, dashed } = legend[k];
    for (const seg of segments(s.values)) {
      const pts = seg.map(([i, v]) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
      if (seg.length === 1) parts.push(`<circle cx="${x(seg[0][0]).toFixed(1)}" cy="${y(seg[0][1]).toFixed(1)}" r="2" fill="${c}"/>`);
      else parts.push(`<polyline fill="none" stroke="${c}" stroke-width="${dashed ? 1.5 : 2}"${dashed ? ' stroke-dasharray="6 4"' : ''} points="${pts}"/>`);
    }
  });
  rows.forEach((row, r) => {
    let lx = m.left;
    const ly = legendTop + r * 16;
    for (const l of row) {
      parts.push(`<line x1="${lx}" x2="${lx + 18}" y1="${ly - 4}" y2="${ly - 4}" stroke="${l.color}" stroke-width="2"${l.dashed ? ' stroke-dasharray="4 3"' : ''}/>`);
      parts.push(`<text x="${lx + 22}" y="${ly}" font-size="11" fill="#333">${escapeHtml(l.name)}</text>`);
      lx += 30 + l.name.length * 6.2;
    }
  });
  if (!chart.series.length) parts.push(`<text x="${m.left + w / 2}" y="${m.top + h / 2}" text-anchor="middle" font-size="13" fill="#888">nothing to show</text>`);
  parts.push('</svg>');
  return parts.join('');
}

/** Runs of consecutive non-null values, as [index, value] pairs. */
function segments(values: Array<number | null>): Array<Array<[number, number]>> {
  const out: Array<Array<[number, number]>> = [];
  let cur: Array<[number, number]> = [];
  values.forEach((v, i) => {
    if (v === null) {
      if (cur.length) out.push(cur);
      cur = [];
    } else cur.push([i, v]);
  });
  if (cur.length) out.push(cur);
  return out;
}

export interface BarRow {
  label: string;
  parts: Array<{ name: string; value: number; color: string }>;
}

/** Horizontal stacked bars, each row as shares of its own total, with the counts written in. */
export function stackedBarsSvg(rows: BarRow[], width = 640): string {
  const rowH = 26;
  const left = 130;
  const right = 70;
  const legendH = 24;
  const height = rows.length * rowH + legendH + 10;
  const w = width - left - right;
  const parts = [`<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img">`];
  rows.forEach((r, i) => {
    const total = r.parts.reduce((s, p) => s + p.value, 0);
    const top = i * rowH + 4;
    parts.push(`<text x="${left - 8}" y="${top + 15}" text-anchor="end" font-size="12" fill="#333">${escapeHtml(r.label)}</text>`);
    let x = left;
    for (const p of r.parts) {
      if (!p.value || !total) continue;
      const pw = (p.value / total) * w;
      parts.push(`<rect x="${x.toFixed(1)}" y="${top}" width="${pw.toFixed(1)}" height="${rowH - 8}" fill="${p.color}"><title>${escapeHtml(`${p.name}: ${p.value}`)}</title></rect>`);
      if (pw > 26) parts.push(`<text x="${(x + pw / 2).toFixed(1)}" y="${top + 13}" text-anchor="middle" font-size="11" fill="#fff">${p.value}</text>`);
      x += pw;
    }
    parts.push(`<text x="${left + w + 6}" y="${top + 15}" font-size="11" fill="#555">${total}</text>`);
  });
  const names = new Map<string, string>();
  for (const r of rows) for (const p of r.parts) names.set(p.name, p.color);
  let lx = left;
  for (const [name, color] of names) {
    parts.push(`<rect x="${lx}" y="${height - legendH + 4}" width="12" height="12" fill="${color}"/><text x="${lx + 16}" y="${height - legendH + 14}" font-size="11" fill="#333">${escapeHtml(name)}</text>`);
    lx += 28 + name.length * 6.5;
  }
  parts.push('</svg>');
  return parts.join('');
}

export interface GroupRow {
  label: string;
  values: Array<{ name: string; value: number | null }>;
}

/** Horizontal grouped bars on one scale (latency percentiles per actor, a metric per config). */
export function groupedBarsSvg(rows: GroupRow[], unit: string, width = 640): string {
  const barH = 14;
  const names = [...new Set(rows.flatMap((r) => r.values.map((v) => v.name)))];
  const valueText = (v: { name: string; value: number | null }) => `${v.name} ${v.value === null ? '-' : `${fmt(v.value)}${unit}`}`;
  // room for the longest label on the left and the longest value text after a full bar: nothing is clipped
  const left = Math.min(width / 3, Math.max(60, 12 + 7 * Math.max(0, ...rows.map((r) => r.label.length))));
  const right = Math.min(width / 2, Math.max(60, 10 + TEXT_WIDTH * Math.max(0, ...rows.flatMap((r) => r.values.map((v) => valueText(v).length)))));
  const groupH = names.length * (barH + 2) + 10;
  const height = rows.length * groupH + 30;
  const max = niceMax(Math.max(0, ...rows.flatMap((r) => r.values.map((v) => v.value ?? 0))));
  const w = width - left - right;
  const parts = [`<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img">`];
  rows.forEach((r, i) => {
    const top = i * groupH + 4;
    parts.push(`<text x="${left - 8}" y="${top + groupH / 2}" text-anchor="end" font-size="12" fill="#333">${escapeHtml(r.label)}</text>`);
    r.values.forEach((v, j) => {
      const y = top + j * (barH + 2);
      const color = PALETTE[names.indexOf(v.name) % PALETTE.length];
      const bw = v.value === null ? 0 : (v.value / max) * w;
      parts.push(`<rect x="${left}" y="${y}" width="${bw.toFixed(1)}" height="${barH}" fill="${color}"><title>${escapeHtml(`${v.name}: ${v.value ?? 'no data'}`)}</title></rect>`);
      parts.push(`<text x="${(left + bw + 4).toFixed(1)}" y="${y + 11}" font-size="11" fill="#333">${escapeHtml(valueText(v))}</text>`);
    });
  });
  parts.push(`<text x="${left}" y="${height - 6}" font-size="11" fill="#777">0</text><text x="${left + w}" y="${height - 6}" text-anchor="end" font-size="11" fill="#777">${fmt(max)}${escapeHtml(unit)}</text>`);
  parts.push('</svg>');
  return parts.join('');
}

const TICKS = '▁▂▃▄▅▆▇█';

/** A one-line sparkline for markdown and plain text. */
export function sparkline(values: Array<number | null>, width = 40): string {
  if (!values.length) return '';
  const per = Math.max(1, Math.ceil(values.length / width));
  const buckets: number[] = [];
  for (let i = 0; i < values.length; i += per) buckets.push(Math.max(0, ...values.slice(i, i + per).map((v) => v ?? 0)));
  const max = Math.max(...buckets);
  return buckets.map((v) => (max ? TICKS[Math.min(7, Math.round((v / max) * 7))] : TICKS[0])).join('');
}
