// `attitude replay` through the real command line: a short recorded run played
// back without a network, at high speed, summing up to what the run itself wrote.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'attitude-replay-'));
const run = path.join(tmp, 'run');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function attitude(...args: string[]) {
  const started = Date.now();
  const r = spawnSync(process.execPath, [path.join(root, 'bin/attitude.js'), ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started };
}

beforeAll(() => {
  const r = attitude('run', 'spam-flood', '--no-tui', '-q', '--duration', '3s', '--out', run);
  expect(r.code).toBe(0);
}, 30_000);

describe('attitude replay', () => {
  it('plays a recorded run back as progress lines and ends with the same summary', () => {
    const summary = JSON.parse(readFileSync(path.join(run, 'summary.json'), 'utf8'));
    const r = attitude('replay', run, '--speed', '50', '--no-tui');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^attitude: spam-flood \(seed 7\) for 3s against in-process/m);
    expect(r.stdout).toMatch(/^ {2}2s: ▶ the botnet starts sending/m);
    for (const t of summary.thresholds) expect(r.stdout).toContain(`${t.ok ? '✓' : '✗'} ${t.metric} ${t.rule}  (${t.value})`);
    for (const [name, a] of Object.entries<{ kind: string; messages: Record<string, number>; connections: Record<string, number> }>(summary.actors)) {
      const m = a.messages;
      expect(r.stdout).toContain(`    ${name} (${a.kind},`);
      expect(r.stdout).toContain(`${m.attempted} attempted, ${m.delivered} delivered`);
      expect(r.stdout).toContain(`${m.deferred} deferred, ${m.rejected} rejected, ${m.abandoned} abandoned`);
      expect(r.stdout).toContain(`connections ${a.connections.attempted} attempted, ${a.connections.greeted} greeted, ${a.connections.refused} refused`);
    }
    for (const [name, b] of Object.entries<{ received: number }>(summary.backends)) expect(r.stdout).toMatch(new RegExp(`${name} +127\\.0\\.0\\.1:\\d+ +received ${b.received} `));
    const l = summary.ledger;
    expect(r.stdout).toContain(`LEDGER   accepted by proxy ${l.acceptedByProxy}  received by backends ${l.receivedByBackends}  lost ${l.lost}  duplicates ${l.duplicates}`);
    expect(r.stdout).toMatch(/greylisted +450 4\.7\.1 +refused \d+ recipients/);
    expect(r.stdout).toContain(summary.passed ? '✓ all thresholds passed' : '✗ some thresholds failed');
  }, 30_000);

  it('takes about the recorded time divided by the speed', () => {
    const { elapsedMs } = JSON.parse(readFileSync(path.join(run, 'summary.json'), 'utf8'));
    const slow = attitude('replay', run, '--speed', '4', '--no-tui', '-q');
    expect(slow.code).toBe(0);
    // a lower bound only: the replay may not run ahead of its speed
    expect(slow.ms).toBeGreaterThanOrEqual(elapsedMs / 4 - 100);
  }, 30_000);

  it('exits 104 for a folder without a recording or a bad speed', () => {
    const none = attitude('replay', path.join(tmp, 'nothing-here'));
    expect(none.code).toBe(104);
    expect(none.stderr).toMatch(/expected a run folder with events\.jsonl/);
    expect(attitude('replay', run, '--speed', 'fast').code).toBe(104);
  });
});
