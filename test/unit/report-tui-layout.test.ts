// The TUI's layout and panel text without a terminal: everything fits at 80x24,
// larger terminals get more charts, and no line is wider than its panel.
import { describe, expect, it } from 'vitest';
import { liveCharts } from '../../reports/model/charts.ts';
import { modelOf } from '../../reports/model/run-model.ts';
import { layout, type Rect } from '../../reports/tui/layout.ts';
import { actorTable, bar, finalLines, gaugeLines, headerLines, lessonText, lineData } from '../../reports/tui/panels.ts';
import { stream } from './report-fixtures.ts';

const overlap = (a: Rect, b: Rect) => a.left < b.left + b.width && b.left < a.left + a.width && a.top < b.top + b.height && b.top < a.top + a.height;
const visibleWidth = (tagged: string) => tagged.replace(/\{\/?[a-z-]+\}/g, '').length;

function check(width: number, height: number, actors: number, backends: number) {
  const l = layout(width, height, actors, backends);
  const rects = [l.header, l.actors, l.gauges, l.log, ...l.charts];
  for (const r of rects) {
    expect(r.left).toBeGreaterThanOrEqual(0);
    expect(r.top).toBeGreaterThanOrEqual(0);
    expect(r.left + r.width).toBeLessThanOrEqual(width);
    expect(r.top + r.height).toBeLessThanOrEqual(height);
  }
  for (let i = 0; i < rects.length; i++) for (let j = i + 1; j < rects.length; j++) expect(overlap(rects[i], rects[j]), `${JSON.stringify(rects[i])} / ${JSON.stringify(rects[j])}`).toBe(false);
  return l;
}

describe('TUI layout', () => {
  it('fits a small scenario at 80x24 with the whole actor table, the gauges, charts and a log', () => {
    const l = check(80, 24, 1, 2);
    expect(l.actors.height).toBe(1 + 3);
    expect(l.gauges.height).toBe(2 + 3);
    expect(l.charts.length).toBeGreaterThanOrEqual(1);
    expect(l.charts.every((c) => c.height >= 7 && c.width >= 38)).toBe(true);
    expect(l.log.height).toBeGreaterThanOrEqual(4);
  });

  it('keeps every actor of a busy scenario visible at 80x24, the charts giving way', () => {
    const l = check(80, 24, 7, 2);
    expect(l.actors.height).toBe(7 + 3);
    expect(l.charts.length).toBeGreaterThanOrEqual(1);
  });

  it('uses a larger terminal: table and gauges side by side, all four charts', () => {
    const l = check(120, 40, 2, 2);
    expect(l.actors.top).toBe(l.gauges.top);
    expect(l.charts).toHaveLength(4);
    expect(l.charts.every((c) => c.height >= 8)).toBe(true);
    const wide = check(200, 50, 7, 3);
    expect(new Set(wide.charts.map((c) => c.top)).size).toBe(1); // one row of four
  });

  it('still lays out a tiny terminal without negative sizes', () => {
    const l = check(60, 14, 3, 2);
    expect(l.log.height).toBeGreaterThanOrEqual(0);
  });
});

describe('TUI panels', () => {
  const m = modelOf(stream());

  it('fits the header, the actor table and the gauges to the width', () => {
    for (const width of [80, 120]) {
      const [one, two] = headerLines(m, { mode: { kind: 'live' }, displayPaused: false, held: null, lesson: false }, width);
      expect(one.length).toBeLessThanOrEqual(width);
      expect(two.length).toBeLessThanOrEqual(width);
      expect(one).toMatch(/^attitude {2}fixture {2}seed 1 {2}3\.2s \/ 3\.0s {2}done/);
      expect(two).toContain('config configs/default.yaml  target in-process 127.0.0.1:2525');
      for (const line of actorTable(m, width - 2)) expect(line.length).toBeLessThanOrEqual(width - 2);
      for (const line of gaugeLines(m, width - 2)) expect(visibleWidth(line)).toBeLessThanOrEqual(width - 2);
    }
  });

  it('shows per actor what was sent, delivered, deferred, rejected and refused', () => {
    const [head, office, bots] = actorTable(m, 78);
    expect(head.split(/\s+/)).toEqual(['actor', 'kind', 'sent', 'deliv', 'defer', 'rej', 'conns', 'refused']);
    expect(office.split(/\s+/)).toEqual(['office', 'legit', '3', '2', '1', '0', '3', '0', '0%']);
    expect(bots.split(/\s+/)).toEqual(['bots', 'flood', '0', '0', '0', '0', '4', '3', '75%']);
  });

  it('draws gauges against the cap, with backend health', () => {
    const [proxy, mx1, mx2] = gaugeLines(m, 78);
    expect(proxy).toMatch(/7\/100 conns/);
    expect(mx1).toMatch(/0\/10 .*DOWN/);
    expect(mx2).toMatch(/1\/50 .*up/);
    expect(bar(5, 10, 10)).toBe('█████░░░░░');
    expect(bar(50, 10, 4)).toBe('████');
  });

  it('says when the run is held at a mark or the display is paused', () => {
    const [one] = headerLines(m, { mode: { kind: 'replay', speed: 4 }, displayPaused: true, held: 'the flood starts', lesson: true }, 200);
    expect(one).toContain('[replay ×4, HELD: the flood starts, DISPLAY PAUSED, lesson]');
  });

  it('never cuts HELD or PAUSED from the status line: the name gives way, then the mark title', () => {
    const state = { mode: { kind: 'replay' as const, speed: 4 }, displayPaused: true, replayPaused: true, held: 'the flood starts and the office must still get through', lesson: true };
    for (const width of [64, 80]) {
      const [one] = headerLines(m, state, width);
      expect(one.length).toBeLessThanOrEqual(width);
      expect(one).toMatch(/\[replay ×4, HELD(: [^,\]]*)?, PAUSED, DISPLAY PAUSED, lesson\]/);
    }
    // narrower still, only what the instructor must see
    expect(headerLines(m, state, 34)[0]).toBe('[HELD, PAUSED, DISPLAY PAUSED]');
    // with room to spare the title comes whole and the name goes first
    expect(headerLines(m, { ...state, held: 'short' }, 80)[0]).toContain('HELD: short');
  });

  it('shows the clock a paused display was paused at', () => {
    const [one] = headerLines(m, { mode: { kind: 'live' }, displayPaused: true, held: null, lesson: false, now: 1200 }, 120);
    expect(one).toMatch(/ 1\.2s \/ 3\.0s /);
  });

  it('renders the lesson reflowed, code spans in color, and the final thresholds', () => {
    const text = lessonText('With `connections.perClient:\n10` each bot holds ten.', 28, null, 'press space');
    expect(text).toBe('With {cyan-fg}connections.perClient:{/cyan-fg}\n{cyan-fg}10{/cyan-fg} each bot holds ten.\n\npress space');
    const lines = finalLines({ passed: false, interrupted: false, thresholds: [{ metric: 'lost', rule: '== 0', value: 2, ok: false }] }, 60);
    expect(lines[0]).toContain('✗ some thresholds failed');
    expect(lines).toContain('{red-fg}✗{/red-fg} lost == 0  (2)');
  });

  it("feeds the line charts complete seconds only while the run goes, and counts as 0 where nothing happened", () => {
    const backends = liveCharts(m).find((c) => c.id === 'backends')!;
    const running = lineData(backends, 60, true);
    const ended = lineData(backends, 60, false);
    expect(running.x).toEqual(['0s', '1s', '2s']);
    expect(ended.x).toEqual(['0s', '1s', '2s', '3s']);
    // the axis tops out at a round value above the data; mx1's outage (from 2.6 s on) is a block under it
    expect(ended.maxY).toBe(2);
    expect(ended.series.map((s) => [s.title, s.y])).toEqual([
      ['mx1', [0, 1, 0, 0]],
      ['mx2', [1, 0, 1, 0]],
      ['mx1 down', [0, 0, 1.94, 1.94]],
    ]);
    expect(lineData(backends, 2, false).x).toEqual(['2s', '3s']);
  });
});
