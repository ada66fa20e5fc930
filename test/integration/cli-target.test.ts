// Aiming the simulator at another proxy from the command line: the mock backends on
// consecutive ports from --backend-port (printed, and in summary.json), a dead target
// failing fast with its own exit code, `attitude backends` keeping them up to
// configure a target first, and a warm-up before the traffic.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseProxyConfig } from '../../proxy/config/load.ts';
import { Proxy } from '../../proxy/proxy.ts';
import { parseEvents } from '../../simulator/record.ts';
import { runCli } from '../helpers/cli.ts';
import { message } from '../helpers/proxy.ts';
import { freePort, freePortRun } from '../helpers/postfix-tools.ts';
import { RawClient } from '../helpers/raw-smtp.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'attitude-target-cli-'));
let proxy: Proxy | undefined;
afterEach(async () => {
  await proxy?.close(500);
  proxy = undefined;
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('run --target', () => {
  it('fails fast on a dead target: one line naming it, exit 108, no traffic', async () => {
    const dead = await freePort();
    const base = await freePortRun(2);
    const started = performance.now();
    const run = runCli(['run', 'baseline', '--target', `127.0.0.1:${dead}`, '--backend-port', String(base), '--no-tui', '--out', path.join(tmp, 'dead')]);
    expect(await run.exited).toBe(108);
    // the banner is awaited 5 s, not a whole run of refused connections
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(run.stderr().trim().split('\n')).toEqual([`attitude: the target 127.0.0.1:${dead} did not answer 220 within 5s (connection refused)`]);
    expect(run.stdout()).toContain(`relay to mx1=127.0.0.1:${base}, mx2=127.0.0.1:${base + 1}`);
    expect(run.stdout()).not.toMatch(/THRESHOLDS/);
  }, 30_000);

  it('starts the backends on consecutive ports, warms up, then runs against the target', async () => {
    const base = await freePortRun(2);
    // attitude itself as the external target, relaying to the ports the run will use
    proxy = await Proxy.start(
      parseProxyConfig({
        relay: { domains: ['example.test'] },
        backends: { healthCheck: { interval: '500ms', timeout: '300ms', rise: 1, fall: 1 }, servers: [{ name: 'a', address: `127.0.0.1:${base}` }, { name: 'b', address: `127.0.0.1:${base + 1}` }] },
      }),
      { processMetrics: false },
    );
    const out = path.join(tmp, 'live');
    const run = runCli(['run', 'baseline', '--target', `127.0.0.1:${proxy.address.port}`, '--backend-port', String(base), '--warmup', '1500ms', '--duration', '2s', '--no-tui', '--out', out]);
    const code = await run.exited;
    expect(run.stdout()).toContain(`relay to mx1=127.0.0.1:${base}, mx2=127.0.0.1:${base + 1}`);
    expect(run.stdout()).toContain('warming up 1.5s: the mock backends are up, nothing is sent yet');
    const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8'));
    expect(summary.backends.mx1.address).toBe(`127.0.0.1:${base}`);
    expect(summary.backends.mx2.address).toBe(`127.0.0.1:${base + 1}`);
    expect(summary.actors.office.messages.delivered).toBe(summary.actors.office.messages.attempted);
    // the proxy's health checks reached the backends while nothing was sent: counted apart
    expect(summary.backends.mx1.foreignConnections + summary.backends.mx2.foreignConnections).toBeGreaterThan(0);
    const events = parseEvents(readFileSync(path.join(out, 'events.jsonl'), 'utf8'));
    const phases = events.flatMap((e) => (e.type === 'run.phase' ? [e.phase] : []));
    expect(phases.slice(0, 2)).toEqual(['warmup', 'running']);
    // nothing was sent before the run's clock started
    const firstAttempt = events.find((e) => e.type === 'conn.attempt')!;
    const running = events.findIndex((e) => e.type === 'run.phase' && e.phase === 'running');
    expect(events.indexOf(firstAttempt)).toBeGreaterThan(running);
    expect(code).toBe(summary.passed ? 0 : 99);
  }, 40_000);
});

describe('attitude backends', () => {
  it("keeps the scenario's mock backends up where run --target starts them, until Ctrl-C", async () => {
    const base = await freePortRun(2);
    const cli = runCli(['backends', 'baseline', '--backend-port', String(base)]);
    try {
      await cli.waitFor(new RegExp(`mock backends are up: mx1=127\\.0\\.0\\.1:${base}, mx2=127\\.0\\.0\\.1:${base + 1}`));
      const c = await RawClient.connect(base + 1);
      expect((await c.read())?.code).toBe(220);
      expect((await c.send('a@sender.test', ['b@example.test'], message('check-1')))?.code).toBe(250);
      c.close();
      await cli.waitFor(/mx2: received a message \(check-1\) from 127\.0\.0\.1, 1 recipient/);
    } finally {
      cli.child.kill('SIGINT');
    }
    expect(await cli.exited).toBe(0);
    expect(cli.stdout()).toContain('stopped (1 message received)');
  }, 30_000);

  it('says which port is taken', async () => {
    const base = await freePortRun(2);
    const first = runCli(['backends', 'baseline', '--backend-port', String(base)]);
    try {
      await first.waitFor(/mock backends are up/);
      const second = runCli(['backends', 'baseline', '--backend-port', String(base)]);
      expect(await second.exited).toBe(1);
      expect(second.stderr()).toContain(`mock backend mx1 cannot listen on 127.0.0.1:${base}: the address is in use`);
    } finally {
      first.child.kill('SIGINT');
    }
    expect(await first.exited).toBe(0);
  }, 30_000);
});
