// report.html and report.md: self-contained (nothing fetched), well-formed, with
// the charts and the lesson; and, where Chromium is installed, a real browser
// loads the page and finds the charts.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderReportHtml } from '../../reports/files/report-html.ts';
import { renderReportMd } from '../../reports/files/report-md.ts';
import { escapeHtml, lineChartSvg, sparkline } from '../../reports/files/svg.ts';
import { modelOf } from '../../reports/model/run-model.ts';
import type { SimEvent } from '../../simulator/events.ts';
import { runStart, stream, summaryFixture } from './report-fixtures.ts';

const VOID = new Set(['meta', 'br', 'hr', 'img', 'input', 'link', 'wbr']);

/** Every element closed in order; returns the problems (empty: well-formed enough). */
function tagProblems(html: string): string[] {
  const problems: string[] = [];
  const stack: string[] = [];
  const body = html.replace(/<!doctype[^>]*>/i, '').replace(/<style>[\s\S]*?<\/style>/g, '');
  for (const m of body.matchAll(/<(\/?)([a-zA-Z][a-zA-Z0-9-]*)([^<>]*?)(\/?)>/g)) {
    const [, closing, name, , selfClosing] = m;
    const tag = name.toLowerCase();
    if (selfClosing || (VOID.has(tag) && !closing)) continue;
    if (!closing) stack.push(tag);
    else if (stack.pop() !== tag) problems.push(`</${tag}> at ${m.index} does not close the open element`);
  }
  if (stack.length) problems.push(`unclosed: ${stack.join(' > ')}`);
  if (/<[^>]*</.test(body.replace(/<title>[^<]*<\/title>/g, ''))) problems.push('a "<" inside a tag');
  return problems;
}

function hostile(): SimEvent[] {
  // text from a scenario file ends up in the page: it must come out as text
  return stream().map((e) => (e.type === 'run.start' ? runStart({ lesson: 'Beware <script>alert("x")</script> & <img src=x onerror=y>', description: 'a "quoted" <b>thing</b>' }) : e));
}

describe('report.html', () => {
  const html = renderReportHtml(summaryFixture(), modelOf(hostile()));

  it('fetches nothing: no scripts, no external styles, no http(s) references', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link/i);
    expect(html).not.toMatch(/@import|url\(/i);
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
    expect(html).not.toMatch(/https?:/i);
  });

  it('is well-formed enough for any browser: every element closed in order', () => {
    expect(tagProblems(html)).toEqual([]);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<meta charset="utf-8">');
  });

  it('has the charts as inline SVG and the lesson as text', () => {
    const svgs = html.match(/<svg /g) ?? [];
    // connections, bandwidth, per backend, refusals, latency; messages, connections; latency percentiles
    expect(svgs.length).toBeGreaterThanOrEqual(8);
    for (const title of ['Connections over time', 'Inbound bandwidth against the throttle', 'Messages per backend', 'Refusals by reason', 'Delivery latency of legitimate mail', 'Latency percentiles', 'Outcomes per actor']) {
      expect(html).toContain(title);
    }
    expect(html).toContain('Beware &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=y&gt;');
    expect(html).toContain('a &quot;quoted&quot; &lt;b&gt;thing&lt;/b&gt;');
  });

  it('shows the verdict, the thresholds with their values, the defenses and the ledger', () => {
    expect(html).toContain('✗ some thresholds failed');
    expect(html).toMatch(/<td class="bad">✗<\/td><td class="text"><code>delivered_ratio\{actor:office\}<\/code><\/td><td class="text">&gt;= 0\.99<\/td><td>0\.6667<\/td>/);
    expect(html).toMatch(/connections-per-client<\/td><td class="text">421 4\.7\.0<\/td><td class="text">refused 3 connections/);
    expect(html).toMatch(/throttled 2\.0 KB/);
    expect(html).toContain('<h2>Ledger</h2>');
  });

  it('draws a limit dashed and a series with gaps as separate lines', () => {
    const svg = lineChartSvg({ id: 'latency', title: 'T <&>', short: 'x', unit: 'u', note: '', spans: [], series: [{ name: 'a', values: [1, 2, null, 3, 4] }, { name: 'cap', values: [5, 5, 5, 5, 5], limit: true }] });
    expect(svg.match(/<polyline/g)).toHaveLength(3);
    expect(svg).toContain('stroke-dasharray="6 4"');
    expect(svg).toContain('T &lt;&amp;&gt;');
    expect(tagProblems(svg)).toEqual([]);
  });
});

describe('report.md', () => {
  const md = renderReportMd(summaryFixture(), modelOf(stream()));

  it('has the thresholds first, then the lesson, the tables and sparklines of the series', () => {
    const order = ['## Thresholds', '## Lesson', '## Actors', '## Backends', '## Defenses that fired', '## Ledger', '## Over time'].map((h) => md.indexOf(h));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(md).toContain('| ✗ | `delivered_ratio{actor:office}` | >= 0.99 | 0.6667 |');
    expect(md).toContain('> Watch the flood.');
    expect(md).toContain('- **1s** the flood starts (predict: will the office notice?)');
    expect(md).toMatch(/\| office \| legit \| 2 \| 3 \| 2 \| 1 \|/);
  });

  it('draws sparklines scaled to the largest value', () => {
    expect(sparkline([0, 1, 2, 4])).toBe('▁▃▅█');
    expect(sparkline([null, 0])).toBe('▁▁');
    expect(escapeHtml(`<a href='x'>`)).toBe('&lt;a href=&#39;x&#39;&gt;');
  });
});

const chromium = ['chromium', 'chromium-browser', 'google-chrome'].find((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'attitude-html-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!chromium)('report.html in headless Chromium', () => {
  it('loads offline and keeps every chart in the rendered page', () => {
    const file = path.join(tmp, 'report.html');
    writeFileSync(file, renderReportHtml(summaryFixture(), modelOf(stream())));
    const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--user-data-dir=${mkdtempSync(path.join(tmp, 'profile-'))}`];
    const dom = spawnSync(chromium!, [...flags, '--dump-dom', `file://${file}`], { encoding: 'utf8', timeout: 25_000 });
    expect(dom.stdout).toContain('<h1>fixture</h1>');
    expect((dom.stdout.match(/<svg /g) ?? []).length).toBeGreaterThanOrEqual(8);
    const png = path.join(tmp, 'report.png');
    spawnSync(chromium!, [...flags, `--screenshot=${png}`, '--window-size=1280,2000', `file://${file}`], { timeout: 25_000 });
    expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
    expect(statSync(png).size).toBeGreaterThan(30_000);
  }, 60_000);
});
