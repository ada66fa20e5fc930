// The live TUI in a real 80x24 terminal (tmux): the header and the actor table
// show up, the run moves, keys work, and `q` stops the run with exit 105 and
// gives the terminal back.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasTmux, TmuxTerminal, waitForFile } from '../helpers/tmux.ts';

const root = path.resolve(import.meta.dirname, '../..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'attitude-tui-'));
const term = new TmuxTerminal(80, 24);
afterAll(() => {
  term.close();
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
});
