// The simulator aimed at another MTA: a real Postfix as the target (`--target`),
// relaying to the scenario's mock backend on a fixed port. The ledger judges Postfix
// by what reached the backend, as it judges our proxy.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildPlan } from '../../simulator/plan.ts';
import { runPlan } from '../../simulator/run.ts';
import { parseScenario } from '../../simulator/scenario/parse.ts';
import { canRunPostfix, postfixOrSkip } from '../helpers/postfix-server.ts';
import { freePort, toolsMissing } from '../helpers/postfix-tools.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'attitude-target-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(toolsMissing('postfix') || !canRunPostfix())('the simulator against Postfix', () => {
  it('delivers through a real Postfix and counts what its queue handed to the backend', async (ctx) => {
    const port = await freePort();
    const postfix = await postfixOrSkip(ctx, `127.0.0.1:${port}`);
    try {
      const scenario = parseScenario({
        name: 'postfix-target',
        seed: 4,
        duration: '2s',
        drain: '15s',
        backends: [{ name: 'mx1', listen: `127.0.0.1:${port}` }],
        actors: [{ name: 'office', kind: 'legit', clients: 4, rate: '5/s', retry: { after: '500ms', max: 5 } }],
        expect: { 'delivered_ratio{actor:office}': ['>= 0.99'], lost: ['== 0'] },
      });
      const result = await runPlan({ plan: buildPlan(scenario), target: { host: '127.0.0.1', port: postfix.port }, outDir: path.join(tmp, 'run') });
      const m = result.summary.actors.office.messages;
      expect(m.attempted).toBeGreaterThan(3);
      expect(m).toMatchObject({ accepted: m.attempted, delivered: m.attempted, lost: 0 });
      expect(result.summary.backends.mx1.received).toBe(m.attempted);
      expect(result.exitCode).toBe(0);
      // Postfix itself saw the simulated clients' addresses
      expect(postfix.log()).toMatch(/client=unknown\[127\.\d+\.\d+\.\d+\]/);
    } finally {
      await postfix.stop();
    }
  }, 60_000);
});
