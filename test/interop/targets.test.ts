// Catalogue scenarios against the peers shipped in scenarios/targets/: HAProxy and a
// private Postfix from Debian's packages, started from those files (ports moved to
// free ones), with the run's mock backends on consecutive ports from --backend-port.
// Whatever each target says, the ledger must balance: what it accepted is what the
// backends received, nothing lost, no duplicate it caused.
//
// ATTITUDE_TARGET_SCENARIOS=baseline,spam-flood,... runs those scenarios against
// attitude (in-process), HAProxy and Postfix and prints a table of the thresholds
// each passed (the table of README's "Comparing attitude with Postfix, Haraka and HAProxy").
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadProxyConfig } from '../../proxy/config/load.ts';
import { buildPlan } from '../../simulator/plan.ts';
import { runPlan } from '../../simulator/run.ts';
import { loadScenario } from '../../simulator/scenario/parse.ts';
import type { RunSummary } from '../../simulator/summary.ts';
import { runCli } from '../helpers/cli.ts';
import { SHIPPED_BACKENDS, startHaproxy, startPostfixPeer } from '../helpers/peers.ts';
import { canRunPostfix } from '../helpers/postfix-server.ts';
import { freePortRun, toolsMissing } from '../helpers/postfix-tools.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'attitude-peers-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The ledger of any honest target: accepted is received, nothing lost or duplicated by it. */
function expectBalanced(s: RunSummary): void {
  expect(s.ledger.lost).toBe(0);
  expect(s.ledger.duplicates).toBe(0);
  for (const [name, a] of Object.entries(s.actors)) expect(a.messages.delivered, name).toBe(a.messages.accepted);
}

async function runAgainst(scenario: string, target: number, base: number, out: string): Promise<RunSummary> {
  const plan = buildPlan(loadScenario(scenario));
  const result = await runPlan({ plan, target: { host: '127.0.0.1', port: target }, backendPort: base, outDir: path.join(tmp, out) });
  return result.summary;
}

/** Runs `fn` with a peer up, and stops it however `fn` ends. */
async function withPeer<P extends { stop(): Promise<void> }, T>(peer: Promise<P>, fn: (p: P) => Promise<T>): Promise<T> {
  const p = await peer;
  try {
    return await fn(p);
  } finally {
    await p.stop();
  }
}

const passed = (s: RunSummary) => `${s.thresholds.filter((t) => t.ok).length}/${s.thresholds.length}${s.passed ? ' ✓' : ''}`;

describe.skipIf(toolsMissing('haproxy'))('the shipped HAProxy config', () => {
  it('runs baseline from the command line, relaying to --backend-port, and passes', async () => {
    const base = await freePortRun(SHIPPED_BACKENDS);
    await withPeer(startHaproxy(base), async (haproxy) => {
      const out = path.join(tmp, 'haproxy-baseline');
      const run = runCli(['run', 'baseline', '--target', `127.0.0.1:${haproxy.port}`, '--backend-port', String(base), '--no-tui', '--out', out]);
      const code = await run.exited;
      const summary: RunSummary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8'));
      expect(run.stdout()).toContain(`relay to mx1=127.0.0.1:${base}, mx2=127.0.0.1:${base + 1}`);
      expectBalanced(summary);
      expect(summary.thresholds.filter((t) => !t.ok)).toEqual([]);
      expect(code).toBe(0);
      // HAProxy's health checks reached the backends, and were counted apart
      expect(summary.backends.mx1.foreignConnections).toBeGreaterThan(0);
    });
  }, 90_000);

  it('holds a connection flood to its stick-table cap: refused before any banner, counted as infrastructure by the senders', async () => {
    const base = await freePortRun(SHIPPED_BACKENDS);
    await withPeer(startHaproxy(base), async (haproxy) => {
      const s = await runAgainst('connection-flood', haproxy.port, base, 'haproxy-flood');
      expectBalanced(s);
      const flood = s.actors.flood;
      // 5 bots x 10 held (sc_conn_cur gt 10), every other try refused: by a close, without SMTP
      expect(flood.connections.greeted).toBe(50);
      expect(Object.keys(flood.refusals)).toEqual([]);
      expect(Object.values(flood.failures).reduce((a, b) => a + b, 0)).toBe(flood.connections.refused);
      expect(s.actors.office.messages.delivered).toBe(s.actors.office.messages.attempted);
    });
  }, 90_000);
});

describe.skipIf(toolsMissing('postfix') || !canRunPostfix())('the shipped Postfix config', () => {
  it('runs baseline through postscreen and smtpd: what its queue accepted reaches the backends once', async (ctx) => {
    const base = await freePortRun(SHIPPED_BACKENDS);
    await withPeer(startPostfixPeer(ctx, base), async (postfix) => {
      const s = await runAgainst('baseline', postfix.port, base, 'postfix-baseline');
      expectBalanced(s);
      expect(s.actors.office.messages.delivered).toBe(s.actors.office.messages.attempted);
      // randmap spreads the deliveries over both backends
      expect(s.backends.mx1.received).toBeGreaterThan(0);
      expect(s.backends.mx2.received).toBeGreaterThan(0);
      expect(postfix.log()).toMatch(/postfix\/postscreen\[\d+\]: CONNECT from \[127\.10\./);
    });
  }, 90_000);

  it("classes anvil's refusals in spam-flood as the limits they are", async (ctx) => {
    const base = await freePortRun(SHIPPED_BACKENDS);
    await withPeer(startPostfixPeer(ctx, base), async (postfix) => {
      const s = await runAgainst('spam-flood', postfix.port, base, 'postfix-spam');
      expectBalanced(s);
      const reasons = Object.keys(s.actors.spammer.refusals);
      // smtpd_recipient_limit (452 4.5.3) and the rate limits (450 4.7.1), named from Postfix's own texts
      expect(reasons.some((r) => ['too-many-recipients', 'recipient-rate', 'message-rate'].includes(r)), reasons.join(', ')).toBe(true);
      expect(reasons.every((r) => !/^\d+$/.test(r))).toBe(true);
    });
  }, 90_000);
});


const table = process.env.ATTITUDE_TARGET_SCENARIOS?.split(',').filter(Boolean) ?? [];

describe.skipIf(!table.length || toolsMissing('haproxy', 'postfix') || !canRunPostfix())('the catalogue against attitude, HAProxy and Postfix', () => {
  it('measures every scenario asked for and prints the table', async (ctx) => {
    const rows: string[] = ['| scenario | attitude | HAProxy | Postfix |', '| --- | --- | --- | --- |'];
    for (const name of table) {
      const scenario = loadScenario(name);
      const config = scenario.proxyFile ? loadProxyConfig(scenario.proxyFile, { use: 'run' }) : null;
      const own = (await runPlan({ plan: buildPlan(scenario), proxyConfig: config, outDir: path.join(tmp, `table-${name}-attitude`) })).summary;
      let base = await freePortRun(SHIPPED_BACKENDS);
      const viaHaproxy = await withPeer(startHaproxy(base), (p) => runAgainst(name, p.port, base, `table-${name}-haproxy`));
      base = await freePortRun(SHIPPED_BACKENDS);
      const viaPostfix = await withPeer(startPostfixPeer(ctx, base), (p) => runAgainst(name, p.port, base, `table-${name}-postfix`));
      const failed = (s: RunSummary) => s.thresholds.filter((t) => !t.ok).map((t) => `${t.metric} ${t.value ?? 'no data'}`).join('; ');
      const cell = (s: RunSummary) => `${passed(s)}${failed(s) ? ` (✗ ${failed(s)})` : ''}; lost ${s.ledger.lost}, dup ${s.ledger.duplicates}`;
      rows.push(`| \`${name}\` | ${cell(own)} | ${cell(viaHaproxy)} | ${cell(viaPostfix)} |`);
      for (const s of [own, viaHaproxy, viaPostfix]) expect(s.ledger.lost, `${name} ${s.target}`).toBe(0);
    }
    console.log(rows.join('\n'));
  }, 60 * 60_000);
});
