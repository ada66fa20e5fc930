// The run engine end to end, in-process: backends, proxy, actors, drain, files.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseProxyConfig } from '../../proxy/config/load.ts';
import { ledgerOf } from '../../simulator/ledger.ts';
import { MockBackend } from '../../simulator/mock-backend.ts';
import { buildPlan } from '../../simulator/plan.ts';
import { parseEvents } from '../../simulator/record.ts';
import { bindProxyConfig, runPlan } from '../../simulator/run.ts';
import { parseScenario } from '../../simulator/scenario/parse.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'attitude-run-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const office = { name: 'office', kind: 'legit', clients: 5, rate: '10/s', retry: { after: '200ms', max: 10 } };

describe('run engine', () => {
  it('runs a scenario through the in-process proxy and writes events.jsonl and summary.json that agree', async () => {
    const scenario = parseScenario({
      name: 'engine',
      seed: 3,
      duration: '2500ms',
      drain: '5s',
      proxies: 2,
      backends: [{ name: 'mx1', latency: '1ms..5ms', outages: [{ from: '800ms', to: '1500ms' }] }, { name: 'mx2' }],
      actors: [office, { name: 'flood', kind: 'flood', clients: 1, connections: 30, hold: '1s', reconnect: '5s' }],
      marks: [{ at: '100ms', title: 'go' }],
      expect: { 'delivered_ratio{actor:office}': ['>= 0.99'], lost: ['== 0'], 'connections_refused{actor:flood}': ['> 0'] },
    });
    const out = path.join(tmp, 'engine');
    const config = parseProxyConfig({ relay: { domains: ['example.test'] }, connections: { perClient: 10 }, backends: { healthCheck: { interval: '500ms', timeout: '200ms', rise: 1, fall: 1 } } });
    const result = await runPlan({ plan: buildPlan(scenario), proxyConfig: config, outDir: out, sampleMs: 200 });
    expect(result.exitCode).toBe(0);
    expect(result.summary.passed).toBe(true);
    expect(JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8'))).toEqual(result.summary);

    const events = parseEvents(readFileSync(path.join(out, 'events.jsonl'), 'utf8'));
    expect(events.length).toBe(result.events);
    expect(events.find((e) => e.type === 'run.start')).toMatchObject({ scenario: 'engine', seed: 3, durationMs: 2500 });
    expect(events[events.length - 1].type).toBe('run.end');
    expect(events.filter((e) => e.type === 'backend.outage').map((e) => e.type === 'backend.outage' && e.state)).toEqual(['down', 'up']);
    expect(events.some((e) => e.type === 'mark' && e.title === 'go')).toBe(true);
    // both proxy instances were sampled and used (clients spread like MX)
    const instances = new Set(events.filter((e) => e.type === 'proxy.state').map((e) => e.type === 'proxy.state' && e.instance));
    expect(instances).toEqual(new Set([0, 1]));
    const transactions = events.filter((e) => e.type === 'proxy.event' && e.name === 'transaction');
    expect(new Set(transactions.map((e) => e.type === 'proxy.event' && e.instance))).toEqual(new Set([0, 1]));
    // the recorded stream replays to the same ledger
    const replayed = ledgerOf(events);
    expect(replayed.ledger).toEqual(result.summary.ledger);
    expect(replayed.actors.find((a) => a.name === 'office')!.messages).toEqual(result.summary.actors.office.messages);
    expect(result.summary.actors.flood.connections.refused).toBeGreaterThan(0);
    expect(result.summary.backends.mx1.received + result.summary.backends.mx2.received).toBe(result.summary.actors.office.messages.delivered);
  });

  it('counts every message as lost when the target accepts and discards (exit 99)', async () => {
    const swallower = await new MockBackend({ name: 'swallower' }).start();
    try {
      const scenario = parseScenario({
        name: 'swallow',
        duration: '1s',
        drain: '500ms',
        backends: [{ name: 'mx1' }],
        actors: [{ ...office, rate: '20/s' }],
        expect: { lost: ['== 0'], 'accepted_ratio{actor:office}': ['>= 0.99'] },
      });
      const result = await runPlan({ plan: buildPlan(scenario), target: { host: swallower.host, port: swallower.port }, outDir: path.join(tmp, 'swallow') });
      const m = result.summary.actors.office.messages;
      expect(m.attempted).toBeGreaterThan(5);
      expect(m).toMatchObject({ accepted: m.attempted, delivered: 0, lost: m.attempted });
      expect(result.summary.ledger).toMatchObject({ acceptedByProxy: m.attempted, receivedByBackends: 0, lost: m.attempted });
      expect(swallower.received.length).toBe(m.attempted);
      expect(result.summary.thresholds.map((t) => t.ok)).toEqual([false, true]);
      expect(result.exitCode).toBe(99);
    } finally {
      await swallower.stop();
    }
  });

  it('stops at once when interrupted (exit 105) and still writes its outputs', async () => {
    const scenario = parseScenario({ name: 'interrupted', duration: '30s', backends: [{ name: 'mx1' }], actors: [office, { name: 'flood', kind: 'flood', connections: 5 }] });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 500);
    const started = Date.now();
    const result = await runPlan({ plan: buildPlan(scenario), outDir: path.join(tmp, 'interrupted'), signal: ac.signal });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(result.exitCode).toBe(105);
    expect(result.summary.interrupted).toBe(true);
    expect(JSON.parse(readFileSync(path.join(tmp, 'interrupted', 'summary.json'), 'utf8')).interrupted).toBe(true);
  });

  it('binds proxy servers without address to the mock backends of the same name', () => {
    const mocks = [new MockBackend({ name: 'mx1', port: 2601 }), new MockBackend({ name: 'mx2', port: 2602 })];
    const named = bindProxyConfig(parseProxyConfig({ backends: { servers: [{ name: 'mx2', weight: 4 }, { name: 'real', address: '10.0.0.1:25' }] } }), mocks);
    expect(named.backends.servers.map((s) => [s.name, s.address, s.weight])).toEqual([
      ['mx2', { host: '127.0.0.1', port: 2602 }, 4],
      ['real', { host: '10.0.0.1', port: 25 }, 1],
    ]);
    expect(named.listen).toEqual({ host: '127.0.0.1', port: 0 });
    const all = bindProxyConfig(null, mocks, { mx1: 3 });
    expect(all.backends.servers.map((s) => [s.name, s.address?.port, s.weight, s.maxConnections])).toEqual([
      ['mx1', 2601, 3, 50],
      ['mx2', 2602, 1, 50],
    ]);
    expect(() => bindProxyConfig(parseProxyConfig({ backends: { servers: [{ name: 'mx9' }] } }), mocks)).toThrow(/mx9/);
  });
});
