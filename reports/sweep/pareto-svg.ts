// The sweep's scatter charts, inline SVG like the run reports' charts: each config a
// point, the attack let through across, what the office got up; configs on the Pareto
// front drawn solid, those that passed the thresholds green, the best one ringed.
import { escapeHtml } from '../files/svg.ts';
import { niceMax } from '../model/charts.ts';

export interface ScatterPoint {
  id: string;
  x: number;
  y: number;
  front: boolean;
  passed: boolean;
  best: boolean;
  /** shown on hover */
  title: string;
}

export interface Axes {
  x: { title: string; unit: string };
  y: { title: string; unit: string; /** the axis from the data's floor, not 0 (shares near 100 %) */ tight?: boolean; /** a fixed top (100 for a share) */ top?: number };
}

const PASS = '#1d8a3a';
const FAIL = '#b0b0b0';
const fmt = (v: number) => (Math.abs(v) >= 100 || Number.isInteger(v) ? String(Math.round(v)) : v.toFixed(1));

/** A round step for about five ticks over `span`. */
const niceStep = (span: number) => niceMax(span / 5 || 1);

/** The axis: from 0 (or, tight, from a round value below the data) to a round top, and its step. */
function range(values: number[], tight = false, top?: number): [number, number, number] {
  const max = Math.max(0, ...values);
  const hi = top ?? niceMax(max * 1.1 || 1);
  if (!tight || !values.length) return [0, hi, hi / 5];
  const step = niceStep(Math.max(hi - Math.min(...values), hi / 20) * 1.15);
  return [Math.max(0, hi - 5 * step), hi, step];
}

export function scatterSvg(points: ScatterPoint[], axes: Axes, box = { width: 520, height: 330 }): string {
  const m = { left: 68, right: 22, top: 24, bottom: 64 };
  const w = box.width - m.left - m.right;
  const h = box.height - m.top - m.bottom;
  const [x0, x1, xs] = range(points.map((p) => p.x), false, axes.x.unit === '%' && Math.max(0, ...points.map((p) => p.x)) > 50 ? 100 : undefined);
  const [y0, y1, ys] = range(points.map((p) => p.y), axes.y.tight, axes.y.top);
  const x = (v: number) => m.left + ((v - x0) / (x1 - x0 || 1)) * w;
  const y = (v: number) => m.top + h - ((v - y0) / (y1 - y0 || 1)) * h;
  const parts: string[] = [`<svg viewBox="0 0 ${box.width} ${box.height}" width="${box.width}" height="${box.height}" role="img" aria-label="${escapeHtml(`${axes.y.title} against ${axes.x.title}`)}">`];
  parts.push(`<title>${escapeHtml(`${axes.y.title} against ${axes.x.title}`)}</title>`);
  for (let v = y0; v <= y1 + ys / 1000; v += ys) {
    parts.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e3e3e3"/>`);
    parts.push(`<text x="${m.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#555">${fmt(v)}${escapeHtml(axes.y.unit)}</text>`);
  }
  for (let v = x0; v <= x1 + xs / 1000; v += xs) parts.push(`<text x="${x(v).toFixed(1)}" y="${m.top + h + 15}" text-anchor="middle" font-size="11" fill="#555">${fmt(v)}${escapeHtml(axes.x.unit)}</text>`);
  parts.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + h}" stroke="#888"/><line x1="${m.left}" x2="${m.left + w}" y1="${m.top + h}" y2="${m.top + h}" stroke="#888"/>`);
  parts.push(`<text x="${m.left + w / 2}" y="${m.top + h + 32}" text-anchor="middle" font-size="12" fill="#333">${escapeHtml(axes.x.title)}</text>`);
  parts.push(`<text x="14" y="${m.top + h / 2}" text-anchor="middle" font-size="12" fill="#333" transform="rotate(-90 14 ${m.top + h / 2})">${escapeHtml(axes.y.title)}</text>`);
  // the dominated first, so the front is drawn on top
  for (const p of [...points].sort((a, b) => Number(a.front) - Number(b.front))) {
    const cx = x(p.x).toFixed(1);
    const cy = y(p.y).toFixed(1);
    const color = p.passed ? PASS : FAIL;
    parts.push(`<g><title>${escapeHtml(p.title)}</title>`);
    if (p.best) parts.push(`<circle cx="${cx}" cy="${cy}" r="10" fill="none" stroke="#d62728" stroke-width="2"/>`);
    parts.push(p.front ? `<circle cx="${cx}" cy="${cy}" r="6" fill="${color}" stroke="#222" stroke-width="1.2"/>` : `<circle cx="${cx}" cy="${cy}" r="5" fill="#fff" stroke="${color}" stroke-width="2"/>`);
    parts.push('</g>');
  }
  // one label for the configs that land on the same place
  const spots = new Map<string, { cx: number; cy: number; ids: string[]; best: boolean }>();
  for (const p of points) {
    const key = `${Math.round(x(p.x) / 6)},${Math.round(y(p.y) / 6)}`;
    const spot = spots.get(key) ?? { cx: x(p.x), cy: y(p.y), ids: [], best: false };
    spot.ids.push(p.id);
    spot.best ||= p.best;
    spots.set(key, spot);
  }
  // labels beside their points, moved up or down until they do not cover one placed before
  const placed: Array<[number, number, number, number]> = [];
  const overlaps = (b: [number, number, number, number]) => placed.some((p) => b[0] < p[2] && p[0] < b[2] && b[1] < p[3] && p[1] < b[3]);
  for (const s of [...spots.values()].sort((a, b) => a.cx - b.cx || a.cy - b.cy)) {
    const text = `${s.ids.join(' ')}${s.best ? ' (best)' : ''}`;
    const width = text.length * 7 + 4;
    let box: [number, number, number, number] = [s.cx + 8, s.cy - 19, s.cx + 8 + width, s.cy - 7];
    for (const dy of [0, 24, -13, 37, -26, 50, -39]) {
      const top = Math.max(0, s.cy - 19 + dy);
      box = [s.cx + 8, top, s.cx + 8 + width, top + 12];
      if (!overlaps(box)) break;
    }
    placed.push(box);
    parts.push(`<text x="${box[0].toFixed(1)}" y="${(box[3] - 2).toFixed(1)}" font-size="11" fill="${s.best ? '#d62728' : '#333'}">${escapeHtml(text)}</text>`);
  }
  const ly = box.height - 12;
  const legend: Array<[string, string]> = [
    [`<circle cx="0" cy="-4" r="6" fill="${PASS}" stroke="#222" stroke-width="1.2"/>`, 'on the Pareto front'],
    [`<circle cx="0" cy="-4" r="5" fill="#fff" stroke="${PASS}" stroke-width="2"/>`, 'passed the thresholds'],
    [`<circle cx="0" cy="-4" r="5" fill="#fff" stroke="${FAIL}" stroke-width="2"/>`, 'failed'],
    [`<circle cx="0" cy="-4" r="8" fill="none" stroke="#d62728" stroke-width="2"/>`, 'best'],
  ];
  let lx = m.left;
  for (const [mark, text] of legend) {
    parts.push(`<g transform="translate(${lx + 8},${ly})">${mark}</g><text x="${lx + 20}" y="${ly}" font-size="11" fill="#333">${escapeHtml(text)}</text>`);
    lx += 34 + text.length * 6.2;
  }
  if (!points.length) parts.push(`<text x="${m.left + w / 2}" y="${m.top + h / 2}" text-anchor="middle" font-size="13" fill="#888">no finished run</text>`);
  parts.push('</svg>');
  return parts.join('');
}
