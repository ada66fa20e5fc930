// `attitude import` and `attitude sweep` through the real command line: a fixture log
// into a scenario that `run` reads, and a small grid run on loopback (port 0) with the
// same seed: one line per run, the files, best.yaml a config `run` takes, every
// problem before anything runs (104), and Ctrl-C keeping what finished (105).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliFixture, runCli } from '../helpers/cli.ts';
import { importCommand } from '../../bin/import-command.ts';
import { prepareRun } from '../../bin/run-command.ts';
import { sweepCommand } from '../../bin/sweep-command.ts';

const root = path.resolve(import.meta.dirname, '../..');
const f = cliFixture('import-sweep');
const tmp = f.tmp;

function attitude(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(root, 'bin/attitude.js'), ...args], { cwd: tmp, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const FIXTURE = path.join(root, 'test/fixtures/postfix-maillog.txt');

describe('attitude import maillog', () => {
  it('writes a scenario and the proxy config as it was, which validate and run read', () => {
    const out = path.join(tmp, 'imported', 'yesterday.yaml');
    const r = attitude('import', 'maillog', FIXTURE, '--duration', '20s', '--out', out, '--map', path.join(tmp, 'imported', 'map.csv'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/IMPORT {2}postfix-maillog\.txt \(Postfix, 76 lines, 2 not used\): Dec 01 10:00:02 to Dec 01 10:03:30/);
    expect(r.stdout).toMatch(/209s of traffic replayed in 20s \(10x\)/);
    expect(r.stdout).toMatch(/^ {4}flood +1 +5 connections +3 +0 +5 +2$/m);
    expect(r.stdout).toContain(`attitude sweep ${out} --vary connections.perClient=1,3,6 --vary messages.rate=`);
    expect(existsSync(path.join(tmp, 'imported', 'yesterday.proxy.yaml'))).toBe(true);
    expect(readFileSync(path.join(tmp, 'imported', 'map.csv'), 'utf8')).toMatch(/^203\.0\.113\.77,127\.\d+\.\d+\.77,127\.\d+\.\d+\.0\/24,flood,flood,/m);
    const v = attitude('validate', out);
    expect(v.stderr).toBe('');
    expect(v.code).toBe(0);
  });

  it('exits 104 with what is wrong', () => {
    const none = attitude('import', 'maillog', path.join(tmp, 'nowhere.log'));
    expect(none.code).toBe(104);
    expect(none.stderr).toMatch(/nowhere\.log: 1 problem\n {2}- \(top\): cannot read the log/);
  });

  it('says what is wrong with the log or the options, all at once', () => {
    writeFileSync(path.join(tmp, 'notes.txt'), 'hello\nworld\n');
    const errors: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => errors.push(String(chunk)) > 0) as typeof process.stderr.write;
    try {
      expect(importCommand('maillog', path.join(tmp, 'notes.txt'), {})).toBe(104);
      expect(importCommand('journal', FIXTURE, {})).toBe(104);
      expect(importCommand('maillog', FIXTURE, { duration: 'soon', format: 'exim' })).toBe(104);
    } finally {
      process.stderr.write = write;
    }
    expect(errors[0]).toMatch(/neither a Postfix log .* nor a Haraka log .*; say which with --format/);
    expect(errors[1]).toMatch(/import: expected maillog, got "journal"/);
    expect(errors[2]).toMatch(/2 problems\n {2}- --format: expected postfix or haraka, got "exim"\n {2}- --duration: expected a duration from 1s to 1h, got "soon"/);
  });
});

// an office of two addresses and one spamming address; messages.rate decides what the spam gets
const SCENARIO = `name: tiny-sweep
seed: 3
duration: 1500ms
drain: 2s
proxy: base.yaml
backends: [{ name: mx1 }]
actors:
  - { name: office, kind: legit, clients: 2, rate: 3/s, recipients: 1, size: 1KB, retry: { after: 200ms, max: 3 } }
  - { name: spam, kind: spammer, clients: 1, rate: 10/s, recipients: 2..4, size: 1KB }
expect:
  delivered_ratio{actor:office}: [">= 0.99"]
  accepted_ratio{actor:spam}: ["<= 0.5"]
`;
const BASE = `# the base of the sweep
relay: { domains: [example.test] }
filters: { spam: { rejectScore: 1000 } } # the spam is only stopped by the rate
messages:
  rate: 100/1m # per client address
`;

describe('attitude sweep', () => {
  writeFileSync(path.join(tmp, 'tiny.yaml'), SCENARIO);
  writeFileSync(path.join(tmp, 'base.yaml'), BASE);

  it('runs the grid with the same seed, one line per run, and writes the table, the files and best.yaml', () => {
    const out = path.join(tmp, 'sweep');
    const r = attitude('sweep', 'tiny.yaml', '--vary', 'messages.rate=8/1m,off', '--out', out);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/attitude sweep: tiny-sweep \(seed 3, 1500ms each\) over 2 configs \(2 messages\.rate\) of .*base\.yaml; at most 7s \(2 x 1500ms \+ 2s drain\)/);
    // not a terminal: exactly one line per run
    expect(r.stdout.match(/^ {2}[12]\/2 {2}messages\.rate=/gm)).toHaveLength(2);
    expect(r.stdout).toMatch(/^ {2}1\/2 {2}messages\.rate=8\/1m {2}✓ 2\/2 {2}office 100\.0% p95 \d+ms {2}attack \d+\.\d% {2}1-rate=8_1m\/$/m);
    expect(r.stdout).toMatch(/^ {2}2\/2 {2}messages\.rate=off {2}✗ 1\/2 {2}office 100\.0% p95 \d+ms {2}attack 100\.0% {2}2-rate=off\/$/m);
    expect(r.stdout).toMatch(/★ best under the thresholds: #1 messages\.rate=8\/1m: office 100\.0% delivered/);
    expect(r.code).toBe(0);
    for (const f of ['sweep.md', 'sweep.html', 'sweep.json', 'best.yaml', '1-rate=8_1m/report.html', '2-rate=off/summary.json', '1-rate=8_1m/proxy.yaml']) expect(existsSync(path.join(out, f)), f).toBe(true);
    const s1 = JSON.parse(readFileSync(path.join(out, '1-rate=8_1m/summary.json'), 'utf8'));
    const s2 = JSON.parse(readFileSync(path.join(out, '2-rate=off/summary.json'), 'utf8'));
    expect(s1.actors.spam.messages.attempted).toBe(s2.actors.spam.messages.attempted);
    const best = readFileSync(path.join(out, 'best.yaml'), 'utf8');
    expect(best).toMatch(/^# attitude sweep of tiny-sweep \(seed 3\): config #1 of 2,/);
    expect(best).toContain('# the base of the sweep');
    expect(best).toContain('rate: 8/1m # chosen by attitude sweep');
    // a config the scenario runs with: what `run --proxy-config best.yaml` checks before it starts
    expect(prepareRun(path.join(tmp, 'tiny.yaml'), { proxyConfig: path.join(out, 'best.yaml') }).proxyConfig!.messages.rate).toEqual({ count: 8, perMs: 60_000 });
    expect(readFileSync(path.join(out, 'sweep.md'), 'utf8')).toContain('| 1 | `8/1m` | ✓ 2/2 | 100.0% |');
  }, 60_000);

  it('lists every problem of the grid before anything runs (104)', async () => {
    const out = path.join(tmp, 'never');
    const errors: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => errors.push(String(chunk)) > 0) as typeof process.stderr.write;
    try {
      expect(await sweepCommand(path.join(tmp, 'tiny.yaml'), { vary: ['conections.perClient=2', 'messages.rate=fast,off'], out })).toBe(104);
      expect(await sweepCommand(path.join(tmp, 'tiny.yaml'), { vary: ['connections.perClient=1,2,3', 'messages.rate=1/1m,off'], maxRuns: '4', out })).toBe(104);
    } finally {
      process.stderr.write = write;
    }
    expect(errors[0]).toContain('--vary conections.perClient: conections: unknown key (did you mean connections?)');
    expect(errors[0]).toContain('--vary messages.rate=fast: expected a rate like 60/1m or 5/s, got "fast"');
    expect(errors[1]).toContain('the grid has 6 configs (3 x 2), over --max-runs 4');
    expect(existsSync(out)).toBe(false);
  });

  it('keeps what finished when interrupted, and exits 105', async () => {
    const out = path.join(tmp, 'interrupted');
    const run = (f.running = runCli(['sweep', path.join(tmp, 'tiny.yaml'), '--vary', 'messages.rate=8/1m,20/1m,off', '--out', out]));
    await run.waitFor(/^ {2}1\/3 /m, 30_000);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(105);
    expect(run.stdout()).toMatch(/interrupted: [12] of 3 configs ran/);
    const json = JSON.parse(readFileSync(path.join(out, 'sweep.json'), 'utf8'));
    expect(json).toMatchObject({ interrupted: true, planned: 3 });
    expect(json.configs[0]).toMatchObject({ index: 1, passed: true });
    expect(readdirSync(out)).toContain('best.yaml');
  }, 60_000);
});
