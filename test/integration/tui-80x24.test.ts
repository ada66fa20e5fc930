// The live TUI in a real 80x24 terminal (tmux), as a projector shows it: the header
// and the actor table show up, the run moves, keys work, and `q` stops the run with
// exit 105 and gives the terminal back. In workshop mode: the lesson first, reflowed,
// the run held at 0 s; HELD never cut from the status line; a paused display with a
// still clock; the charts the lesson is about without paging; a final screen with
// the thresholds until q.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasTmux, TmuxTerminal, waitForFile } from '../helpers/tmux.ts';

const root = path.resolve(import.meta.dirname, '../..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'attitude-tui-'));
const term = new TmuxTerminal(80, 24);
const workshop = new TmuxTerminal(80, 24);
afterAll(() => {
  term.close();
  workshop.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(!hasTmux)('TUI at 80x24', () => {
  it('shows the header and the actor table, and q quits with exit 105', async () => {
    const out = path.join(tmp, 'run');
    term.start(`cd ${root} && node bin/attitude.js run baseline --duration 8s --out ${out} 2>${tmp}/stderr; echo $? > ${tmp}/rc`);
    const first = await term.waitFor([/^attitude {2}baseline {2}seed 42 {2}\d+\.\ds \/ 8\.0s {2}running/m, /office +legit +\d+ +\d+/, /config configs\/default\.yaml {2}target in-process/, /proxy +\S+ \d+\/1000 conns/]);
    const lines = first.split('\n');
    expect(lines[0]).toMatch(/\? help$/);
    for (const label of ['actors', 'connections', 'events']) expect(first).toContain(` ${label} `);
    expect(first).toMatch(/mx1 +\S+ \d+\/50 +up/);
    // the run moves on: a later screen shows a later time
    const elapsed = (screen: string) => Number(/(\d+\.\d)s \/ 8\.0s/.exec(screen)?.[1] ?? NaN);
    const t0 = elapsed(first);
    await term.waitUntil((screen) => elapsed(screen) > t0, `a time after ${t0}s`);

    term.keys('?');
    await term.waitFor([/help \(\? to close\)/, /q, Ctrl-C +quit/]);
    term.keys('?');
    term.keys('q');
    expect(await waitForFile(path.join(tmp, 'rc'))).toBe('105');
    const after = await term.waitFor([/interrupted/]);
    // the TUI is gone: the plain end summary is on the terminal
    expect(after).toMatch(/LEDGER +accepted by proxy \d+/);
    expect(after).not.toContain(' actors ');
    expect(JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8'))).toMatchObject({ interrupted: true, passed: false });
    expect(readFileSync(path.join(tmp, 'stderr'), 'utf8')).toContain('interrupted');
  }, 30_000);

  it('runs a workshop on a projector: the lesson, held marks, a paused display, the final screen', async () => {
    const out = path.join(tmp, 'workshop');
    const rc = path.join(tmp, 'workshop.rc');
    workshop.start(`cd ${root} && node bin/attitude.js run connection-flood --lesson --duration 6s --out ${out} 2>${tmp}/workshop.err; echo $? > ${rc}`);
    const start = await workshop.waitFor([/HELD: the lesson/, /lesson \(l to close\)/, /press space to start/]);
    const rows = start.split('\n');
    expect(rows[0].length).toBeLessThanOrEqual(80);
    // the lesson box: its rows between the borders, reflowed from the YAML's line breaks
    const top = rows.findIndex((r) => r.includes('lesson (l to close)'));
    const left = rows[top].indexOf('lq lesson');
    const right = rows[top].lastIndexOf('k');
    const inner = right - left - 1;
    const body: string[] = [];
    for (let r = top + 1; rows[r][left] === 'x'; r++) body.push(rows[r].slice(left + 1, right).trimEnd());
    const text = body.join(' ').replace(/\s+/g, ' ');
    expect(text).toContain('Connection flood: five infected hosts each try to open and hold 100 SMTP connections, silently, for twelve seconds.');
    // backticks are rendered, not shown
    expect(text).toContain('With connections.perClient: 10 each bot holds ten');
    expect(start).not.toContain('`');
    // wrapped at words: a line ends only where the next word would not have fitted
    const paragraph = body.slice(0, body.findIndex((l) => l.trim() === ''));
    for (let i = 0; i + 1 < paragraph.length; i++) {
      const next = paragraph[i + 1].trim().split(' ')[0];
      expect(paragraph[i].trim().length + 1 + next.length, `"${paragraph[i]}" then "${next}"`).toBeGreaterThan(inner - 2);
    }
    // held before any traffic: the run's clock has not started
    expect(rows[0]).toMatch(/ 0\.0s \/ 6\.0s /);

    workshop.keys('Space');
    // the first mark: HELD stays whole on the status line, the mark's title gives way
    const mark = await workshop.waitFor([/Predict: can the office still connect\?/]);
    const status = mark.split('\n')[0];
    expect(status.length).toBeLessThanOrEqual(80);
    expect(status).toMatch(/\[HELD(: [^\]]*)?, lesson\]/);
    workshop.keys('Space');

    // the lesson is about the per-client cap and latency: both charts, no paging
    const going = await workshop.waitFor([/Connections over time|connections conns/, /legit latency ms|Delivery latency/]);
    expect(going).not.toMatch(/HELD/);
    // a paused display: the panels and the header's clock stand still
    workshop.keys('p');
    const clock = (screen: string) => /(\d+\.\d)s \/ 6\.0s/.exec(screen)?.[1];
    const paused = await workshop.waitFor([/DISPLAY PAUSED/]);
    await new Promise((r) => setTimeout(r, 1500));
    const still = workshop.capture();
    expect(still).toMatch(/DISPLAY PAUSED/);
    expect(clock(still)).toBe(clock(paused));
    workshop.keys('p');
    await workshop.waitUntil((screen) => !/DISPLAY PAUSED/.test(screen), 'the display going on');

    // the end: every threshold stays on the 24 lines until q
    const end = await workshop.waitFor([/the end \(q to leave\)/, /connections_refused_ratio\{actor:flood\} >= 0\.8/, /latency\{actor:office\} p\(95\) < 2000/, /lost == 0/, /delivered_ratio\{actor:office\} >= 0\.99/], 30_000);
    expect(end).toMatch(/[✓✗] (all|some) thresholds/);
    expect(existsSync(rc)).toBe(false);
    workshop.keys('q');
    const code = await waitForFile(rc);
    const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8'));
    expect(code).toBe(summary.passed ? '0' : '99');
    // the summary follows in the terminal once the TUI is gone
    expect(await workshop.waitFor([/LEDGER +accepted by proxy \d+/])).not.toContain('the end (q to leave)');
  }, 60_000);
});
