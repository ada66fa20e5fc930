// `attitude run`, `attitude scenarios` and scenario validation through the real command line.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'attitude-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function attitude(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(root, 'bin/attitude.js'), ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('attitude run', () => {
  it('runs the baseline scenario end to end with --no-tui and a short duration', () => {
    const out = path.join(tmp, 'baseline');
    const r = attitude('run', 'baseline', '--no-tui', '--duration', '3s', '--seed', '5', '--out', out);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/✓ delivered_ratio\{actor:office\} >= 0\.99/);
    expect(r.stdout).toMatch(/LEDGER\s+accepted by proxy \d+/);
    const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ scenario: 'baseline', seed: 5, durationMs: 3000, passed: true });
    expect(Object.keys(summary.actors.office)).toEqual(expect.arrayContaining(['kind', 'clients', 'messages', 'connections', 'latencyMs']));
    expect(Object.keys(summary.actors.office.messages)).toEqual(expect.arrayContaining(['attempted', 'delivered', 'deferred', 'rejected', 'abandoned']));
    expect(summary.actors.office.messages.attempted).toBeGreaterThan(5);
    expect(summary.backends.mx1).toMatchObject({ received: expect.any(Number), peakConnections: expect.any(Number) });
    expect(Object.keys(summary.ledger)).toEqual(expect.arrayContaining(['acceptedByProxy', 'receivedByBackends', 'lost', 'duplicates']));
    expect(summary.thresholds[0]).toEqual({ metric: expect.any(String), rule: expect.any(String), value: expect.any(Number), ok: true });
    expect(readFileSync(path.join(out, 'events.jsonl'), 'utf8').split('\n').length).toBeGreaterThan(100);
  });

  it('exits 99 when a threshold fails', () => {
    const file = path.join(tmp, 'strict.yaml');
    writeFileSync(file, ['name: strict', 'duration: 1s', 'drain: 1s', 'backends: [{ name: mx1 }]', 'actors: [{ name: office, kind: legit, rate: 5/s }]', 'expect:', '  "latency{actor:office}": ["max < 0"]', ''].join('\n'));
    const r = attitude('run', file, '--no-tui', '-q', '--out', path.join(tmp, 'strict'));
    expect(r.code).toBe(99);
    expect(r.stdout).toMatch(/✗ latency\{actor:office\} max < 0/);
  });

  it('exits 104 listing every problem of a bad scenario, and for a bad option', () => {
    const file = path.join(tmp, 'bad.yaml');
    writeFileSync(file, ['name: bad', 'duration: soon', 'backends: [{ name: mx1 }]', 'actors:', '  - { name: a, kind: legit, rate: 5/s, size: huge }', '  - { name: b, kind: hacker }', 'expect: { "lost{backend:mx1}": ["== 0"] }', ''].join('\n'));
    const r = attitude('run', file, '--no-tui');
    expect(r.code).toBe(104);
    expect(r.stderr).toContain('bad.yaml: 4 problems');
    expect(r.stderr).toMatch(/duration: expected a duration/);
    expect(r.stderr).toMatch(/actors\[0\]\.size: expected a size or a range/);
    expect(r.stderr).toMatch(/actors\[1\]\.kind: expected one of legit/);
    expect(r.stderr).toMatch(/expect\.lost\{backend:mx1\}: metric lost takes the tags actor, kind/);
    expect(attitude('validate', file).code).toBe(104);
    expect(attitude('run', 'baseline', '--duration', 'long').code).toBe(104);
    expect(attitude('run', 'no-such-scenario').code).toBe(104);
  });

  it('lists the catalogue and validates its scenarios', () => {
    const r = attitude('scenarios');
    expect(r.code).toBe(0);
    for (const name of ['baseline', 'spam-flood', 'worm-outbreak', 'connection-flood', 'slowloris', 'early-talkers', 'bandwidth-hog', 'backend-outage', 'weighted-backends', 'open-relay-probe', 'smtp-smuggling', 'mixed-day', 'dnsbl-botnet', 'greylisting', 'spoofed-ceo']) {
      expect(r.stdout).toMatch(new RegExp(`^${name}\\s+\\d+s\\s+\\S`, 'm'));
    }
    // a pager or head that has read enough closes the pipe: not an error
    const piped = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${path.join(root, 'bin/attitude.js')}" scenarios | head -1`], { encoding: 'utf8' });
    expect(piped.stderr).toBe('');
    expect(piped.status).toBe(0);
    expect(piped.stdout.split('\n').filter(Boolean)).toHaveLength(1);
    const v = attitude('validate', 'scenarios/spam-flood.yaml');
    expect(v.code).toBe(0);
    expect(v.stdout).toContain('valid scenario');
  });
});
