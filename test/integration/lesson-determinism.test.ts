// Workshop mode must not change what the actors do: the same seed gives the same
// per-actor counts whether the run is held at its marks or not. The flood sits on
// the knife edge that once gave --lesson an extra reconnect wave: its hold is an
// exact multiple of its reconnect, and the marks stop the clock while connections
// are on the wire. The marks are released by a script, as an instructor would.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseProxyConfig } from '../../proxy/config/load.ts';
import { PausableClock } from '../../simulator/pausable-clock.ts';
import { buildPlan } from '../../simulator/plan.ts';
import { runPlan } from '../../simulator/run.ts';
import { parseScenario } from '../../simulator/scenario/parse.ts';
import type { RunSummary } from '../../simulator/summary.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'attitude-lesson-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const scenario = parseScenario({
  name: 'knife-edge',
  seed: 3,
  duration: '7s',
  drain: '3s',
  backends: [{ name: 'mx1', latency: '2ms..10ms' }, { name: 'mx2', latency: '2ms..10ms' }],
  actors: [
    { name: 'office', kind: 'legit', clients: 6, rate: '4/s', retry: { after: '500ms', max: 8 } },
    { name: 'flood', kind: 'flood', clients: 3, start: '1s', connections: 12, hold: '4s', rampUp: '500ms', reconnect: '1s' },
  ],
  marks: [
    { at: '1s', title: 'the flood starts' },
    { at: '3s', title: 'half way' },
  ],
});
const config = parseProxyConfig({ relay: { domains: ['example.test'] }, connections: { perClient: 4, rate: 'off' } });

/**
 * What a workshop compares: per actor, the messages attempted and delivered, and the
 * flood's connections (every try of a holder is planned). A mailer's connections are
 * not compared: how many it opens depends on when its replies come back (README,
 * "What repeats from a seed"), and a loaded machine moves them by one.
 */
function counts(s: RunSummary) {
  return Object.fromEntries(
    Object.entries(s.actors).map(([name, a]) => [name, { messages: { attempted: a.messages.attempted, delivered: a.messages.delivered }, ...(name === 'flood' ? { connections: a.connections } : {}) }]),
  );
}

describe('workshop mode and determinism', () => {
  it('gives the same per-actor counts with and without holding at the marks', async () => {
    const plain = await runPlan({ plan: buildPlan(scenario), proxyConfig: config, outDir: path.join(tmp, 'plain') });

    const clock = new PausableClock();
    let holds = 0;
    const held = await runPlan({
      plan: buildPlan(scenario),
      proxyConfig: config,
      outDir: path.join(tmp, 'held'),
      clock,
      onBus: (bus) =>
        bus.on('mark', () => {
          // the instructor talks for a while, then presses space
          holds++;
          clock.pause();
          setTimeout(() => clock.resume(), 700);
        }),
    });
    expect(holds).toBe(2);
    expect(counts(held.summary)).toEqual(counts(plain.summary));
    // every try was planned: 3 clients x 12 connections, 4 held each, the other 8 back every second of the 4 s hold
    expect(plain.summary.actors.flood.connections).toEqual({ attempted: 3 * (4 + 8 * 4), greeted: 12, refused: 3 * 8 * 4 });
  }, 60_000);
});
