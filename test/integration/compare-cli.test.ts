// `attitude compare` through the real command line: spam-flood with the same seed
// under the reference defenses and under an open config, side by side.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'attitude-compare-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function attitude(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(root, 'bin/attitude.js'), ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('attitude compare', () => {
  it('runs the same traffic under each config, shows who did better, writes the files, and exits 99 when one failed', () => {
    const out = path.join(tmp, 'spam');
    // the botnet starts at 2s: 3s is enough for it to send
    // a side can be named (NAME=FILE); --no-tui is taken as run takes it
    const r = attitude('compare', 'spam-flood', '--proxy-config', 'reference=scenarios/configs/default.yaml', '--proxy-config', 'scenarios/configs/open.yaml', '--duration', '3s', '--no-tui', '--out', out);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(99);
    // thresholds of each run side by side
    expect(r.stdout).toMatch(/accepted_ratio\{actor:spammer\} <= 0\.2 +✓ 0 +✗ 1/);
    expect(r.stdout).toMatch(/delivered_ratio\{actor:office\} >= 0\.99 +✓ 1 +✓ 1/);
    // per actor, the direction that is better and the winner
    expect(r.stdout).toMatch(/^ {2}spammer \(spammer\)$/m);
    expect(r.stdout).toMatch(/^ {4}accepted ratio +lower +0\.0% +100\.0% +\+100\.0pp +reference$/m);
    expect(r.stdout).toMatch(/^ {4}delivered ratio +higher +100\.0% +100\.0% += +tie$/m);
    expect(r.stdout).toContain('✗ thresholds failed under open');
    expect(r.stdout).toMatch(/^ {4}1\. reference \(3\/3 thresholds[^)]*\), 2\. open \(\d\/3 thresholds/m);

    const s1 = JSON.parse(readFileSync(path.join(out, '1-reference/summary.json'), 'utf8'));
    const s2 = JSON.parse(readFileSync(path.join(out, '2-open/summary.json'), 'utf8'));
    expect(s1.seed).toBe(s2.seed);
    // the same plan: the office tried the same messages under both
    expect(s1.actors.office.messages.attempted).toBe(s2.actors.office.messages.attempted);
    expect(s1.passed).toBe(true);
    expect(s2.passed).toBe(false);
    for (const f of ['compare.md', 'compare.html', '1-reference/report.html', '2-open/report.md']) expect(existsSync(path.join(out, f)), f).toBe(true);
    const html = readFileSync(path.join(out, 'compare.html'), 'utf8');
    expect(html).not.toMatch(/https?:|<script/i);
    expect(html).toContain('<a href="1-reference/report.html">');
    expect(readFileSync(path.join(out, 'compare.md'), 'utf8')).toMatch(/\| spammer \| accepted ratio \| lower \| 0\.0% \| 100\.0% \|/);
  }, 45_000);

  it('exits 104 with fewer than two configs or a bad one', () => {
    const one = attitude('compare', 'baseline', '--proxy-config', 'scenarios/configs/default.yaml');
    expect(one.code).toBe(104);
    expect(one.stderr).toContain('expected at least two to compare, got 1');
    const bad = attitude('compare', 'baseline', '--proxy-config', 'scenarios/configs/default.yaml', '--proxy-config', 'no/such.yaml');
    expect(bad.code).toBe(104);
  });
});
