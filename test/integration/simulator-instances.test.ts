// Several proxy instances in one run: the load spreads over them, and a per-client
// limit holds across all of them because they share their counters.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseProxyConfig } from '../../proxy/config/load.ts';
import { InstanceLedger } from '../../simulator/instances.ts';
import { buildPlan } from '../../simulator/plan.ts';
import { runPlan } from '../../simulator/run.ts';
import { parseScenario } from '../../simulator/scenario/parse.ts';
import type { SimEvent } from '../../simulator/events.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'attitude-instances-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('several proxy instances', () => {
  it('counts what each client held over all instances from the clients own view', () => {
    const l = new InstanceLedger();
    const ev = (e: Record<string, unknown>) => l.consume({ t: 0, ...e } as unknown as SimEvent);
    ev({ type: 'conn.greeted', actor: 'bot', client: '127.0.0.9', conn: 1, ms: 1 });
    ev({ type: 'conn.greeted', actor: 'bot', client: '127.0.0.9', conn: 2, ms: 1 });
    ev({ type: 'conn.closed', actor: 'bot', client: '127.0.0.9', conn: 1, heldMs: 5, by: 'client' });
    ev({ type: 'conn.greeted', actor: 'bot', client: '127.0.0.9', conn: 3, ms: 1 });
    ev({ type: 'conn.closed', actor: 'bot', client: '127.0.0.9', conn: 7, heldMs: 5, by: 'server' }); // never greeted
    ev({ type: 'conn.greeted', actor: 'bot', client: '127.0.0.8', conn: 4, ms: 1 });
    ev({ type: 'proxy.event', instance: 1, name: 'connection', data: { accepted: false } });
    ev({ type: 'proxy.state', instance: 1, state: { connections: { active: 7 } } });
    const r = l.result();
    expect(r.clientConnectionsMax).toBe(2);
    expect(r.clientConnectionsMaxBy).toBe('127.0.0.9');
    expect(r.instances).toEqual([{ instance: 1, accepted: 0, refused: 1, delivered: 0, peakConnections: 7 }]);
  });

  it('three instances enforce one per-client cap together, and all of them take load', async () => {
    const scenario = parseScenario({
      name: 'cluster',
      seed: 5,
      duration: '3s',
      drain: '4s',
      proxies: 3,
      backends: [{ name: 'mx1' }],
      actors: [
        { name: 'office', kind: 'legit', clients: 6, rate: '6/s', retry: { after: '200ms', max: 10 } },
        { name: 'flood', kind: 'flood', clients: 2, connections: 30, hold: '2s', reconnect: '5s' },
      ],
      expect: { 'delivered_ratio{actor:office}': ['>= 0.99'], lost: ['== 0'] },
    });
    const config = parseProxyConfig({ relay: { domains: ['example.test'] }, connections: { perClient: 4, rate: 'off' }, messages: { rate: 'off', senderRate: 'off', recipientRate: 'off' } });
    const result = await runPlan({ plan: buildPlan(scenario), proxyConfig: config, outDir: path.join(tmp, 'cluster'), sampleMs: 200 });
    const spread = result.summary.proxies!;
    expect(spread.instances).toHaveLength(3);
    for (const i of spread.instances) expect(i.accepted).toBeGreaterThan(0);
    // without shared counters each bot could hold 3 x 4 connections
    expect(spread.clientConnectionsMax).toBe(4);
    expect(result.summary.thresholds.find((t) => t.metric === 'client_connections_max')).toMatchObject({ value: 4, ok: true });
    expect(result.exitCode).toBe(0);
  });
});
