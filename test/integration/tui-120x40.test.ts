// The live TUI in a larger terminal (120x40, tmux), in workshop mode: the lesson
// first with the run held at 0 s, all four charts beside each other, the run held
// at the scenario's mark (its clock stands still) until a key, the lesson panel on
// `l`, then the run finishes on a final screen with the thresholds until q.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasTmux, TmuxTerminal, waitForFile } from '../helpers/tmux.ts';

const root = path.resolve(import.meta.dirname, '../..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'attitude-tui-'));
const term = new TmuxTerminal(120, 40);
afterAll(() => {
  term.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(!hasTmux)('TUI at 120x40 with --lesson', () => {
  it('uses the space for all charts, holds at the mark until a key, and finishes', async () => {
    const out = path.join(tmp, 'run');
    term.start(`cd ${root} && node bin/attitude.js run baseline --duration 3s --lesson --out ${out} 2>${tmp}/stderr; echo $? > ${tmp}/rc`);
    // the lesson first, before any traffic: the run is held at 0 s
    const start = await term.waitFor([/HELD: the lesson/, /lesson \(l to close\)/, /Baseline: what normal looks like/, /press space to start/]);
    expect(start.split('\n')[0]).toMatch(/^attitude {2}baseline {2}seed 42 {2}0\.0s \/ 3\.0s {2}(setup|running) {2}\[HELD: the lesson, lesson\]/);
    expect(start).toMatch(/office +legit +0 +0 +0 +0 +0 /);
    term.keys('Space');
    // baseline marks "traffic starts" at 1s
    const held = await term.waitFor([/HELD: traffic starts/, /Predict: how many of the 75 messages arrive\?/, /Press space to continue/, /proxy +\S+ \d+\/1000 conns/]);
    expect(held.split('\n')[0]).toMatch(/^attitude {2}baseline {2}seed 42 {2}1\.\ds \/ 3\.0s {2}running .*q quit {2}p pause {2}l lesson {2}\? help$/);
    const clock = (screen: string) => /(\d+\.\d)s \/ 3\.0s/.exec(screen)?.[1];
    // table and gauges side by side
    expect(held).toMatch(/ actors .* connections /);

    // held: the run's clock does not move and, once the conversations on the wire
    // are over, nothing new is sent (the office sends 5 a second when not held)
    const office = (screen: string) => /office +legit +(\d+ +\d+ +\d+ +\d+ +\d+)/.exec(screen)?.[1];
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await sleep(1500);
    const settled = term.capture();
    await sleep(1200);
    const still = term.capture();
    expect(still).toMatch(/HELD: traffic starts/);
    expect(clock(still)).toBe(clock(held));
    expect(office(still)).toBeDefined();
    expect(office(still)).toBe(office(settled));

    term.keys('l');
    await term.waitFor([/lesson \(l to close\)/, /Baseline: what normal looks like/]);
    term.keys('l');
    term.keys('Space');
    const going = await term.waitUntil((screen) => !/HELD/.test(screen.split('\n')[0]) && /[2-9]\.\ds \/ 3\.0s/.test(screen), 'the run going on after the mark', 10_000);
    // the four charts in two rows of two, what the lesson is about first (the backends' shares, then latency)
    const labels = [/Messages per backend \(msg\/s\)/, /legit latency ms|Delivery latency/, /bandwidth KB\/s/, /Refusals by reason \(\/s\)/];
    for (const chart of labels) expect(going).toMatch(chart);
    const rowOf = (re: RegExp) => going.split('\n').findIndex((l) => re.test(l));
    expect(rowOf(labels[0])).toBe(rowOf(labels[1]));
    expect(rowOf(labels[2])).toBe(rowOf(labels[3]));
    expect(rowOf(labels[2])).toBeGreaterThan(rowOf(labels[0]) + 7);
    // the end: the thresholds stay on the screen until q
    const end = await term.waitFor([/the end \(q to leave\)/, /✓ all thresholds passed/, /✓ lost == 0 {2}\(0\)/, /done, q to leave/], 20_000);
    expect(end).toMatch(/✓ backend_share\{backend:mx1\} > 0\.3/);
    expect(existsSync(path.join(tmp, 'rc'))).toBe(false);
    term.keys('q');
    expect(await waitForFile(path.join(tmp, 'rc'))).toBe('0');
    const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ passed: true, interrupted: false });
    // the hold is not in the run's time: it ran its 3 s of traffic, not 3 s plus the pause
    expect(summary.elapsedMs).toBeLessThan(3000 + 5000);
    const events = readFileSync(path.join(out, 'events.jsonl'), 'utf8');
    // the mark is at 1 s of the run's own time (the timer may fire a hair early or late)
    const mark = events.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((e) => e.type === 'mark');
    expect(mark.t).toBeGreaterThan(950);
    expect(mark.t).toBeLessThan(1500);
  }, 30_000);
});
