// relay-prober and smuggler against the proxy and against bare mock backends.
import { afterEach, describe, expect, it } from 'vitest';
import { backends, closeAll, proxyFor } from '../helpers/proxy.ts';
import { MockBackend } from '../../simulator/mock-backend.ts';
import { runActors } from '../../simulator/harness.ts';
import type { Proxy } from '../../proxy/proxy.ts';

let mocks: MockBackend[] = [];
let proxy: Proxy | undefined;
afterEach(async () => {
  await closeAll(proxy, mocks);
  proxy = undefined;
  mocks = [];
});

const at = (m: MockBackend) => ({ host: m.host, port: m.port });
const relayControlled = { relay: { domains: ['example.test'], clients: [] } };

describe('relay-prober', () => {
  it('finds no hole in a proxy that serves only its own domain', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { ...relayControlled, connections: { perClient: 100, max: 5000, rate: 'off', errorDelay: '10ms', errorHardLimit: 100 } });
    const r = await runActors({
      actors: [{ name: 'prober', kind: 'relay-prober', clients: 1, arrival: { type: 'bursts', every: '10s', size: 1 } }],
      targets: [proxy.address],
      duration: '500ms',
      drain: '5s',
    });
    const results = r.of('probe.result');
    expect(results.map((e) => e.trick).sort()).toHaveLength(16);
    expect(results.filter((e) => e.accepted)).toEqual([]);
    expect(results.every((e) => e.code !== null && e.code >= 500)).toBe(true);
    expect(r.ledger.actors[0].relay).toMatchObject({ probes: 16, accepted: 0 });
  });

  it('comes back for the rest of the tricks when a tarpit closes on it', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { ...relayControlled, connections: { perClient: 100, max: 5000, rate: 'off', errorSoftLimit: 3, errorHardLimit: 6, errorDelay: '10ms' } });
    const r = await runActors({
      actors: [{ name: 'prober', kind: 'relay-prober', clients: 1, arrival: { type: 'bursts', every: '10s', size: 1 } }],
      targets: [proxy.address],
      duration: '500ms',
      drain: '5s',
    });
    expect(r.of('conn.attempt').length).toBeGreaterThan(1);
    expect(new Set(r.of('probe.result').map((e) => e.trick)).size).toBe(16);
    expect(r.ledger.actors[0].relay.accepted).toBe(0);
  });

  it('records which tricks an open relay accepts (a bare mock backend takes any recipient)', async () => {
    mocks = await backends(1);
    const r = await runActors({
      actors: [{ name: 'prober', kind: 'relay-prober', clients: 1, arrival: { type: 'bursts', every: '10s', size: 1 } }],
      targets: [at(mocks[0])],
      duration: '500ms',
    });
    const relay = r.ledger.actors[0].relay;
    expect(relay.probes).toBe(16);
    expect(relay.accepted).toBeGreaterThan(3);
    expect(relay.acceptedTricks).toEqual(expect.arrayContaining(['null-sender', 'outside-sender', 'served-sender']));
  });
});

describe('smuggler', () => {
  it('gets a second message into an unpatched receiver (a lenient mock backend)', async () => {
    mocks = [await new MockBackend({ name: 'mx1', lenientDataEnd: true }).start()];
    const r = await runActors({
      actors: [{ name: 'smug', kind: 'smuggler', clients: 1, arrival: { type: 'constant', rate: '10/s' }, variants: ['lf-dot-lf', 'cr-dot-cr', 'lf-dot-crlf'] }],
      targets: [at(mocks[0])],
      backends: mocks,
      duration: '300ms',
    });
    const smug = r.ledger.actors[0];
    expect(smug.smuggling.sent).toBe(3);
    expect(smug.smuggling.smuggled).toBe(3);
    const smuggled = mocks[0].received.filter((m) => m.smuggled);
    expect(smuggled.map((m) => m.id).sort()).toEqual(['smug-1-smuggled', 'smug-2-smuggled', 'smug-3-smuggled']);
    expect(smuggled[0]).toMatchObject({ from: 'ceo@example.test', to: ['victim@example.test'] });
    expect(r.ledger.ledger.unconfirmed).toBe(3);
  });

  it('smuggles nothing through the proxy: strict mode refuses, normalizing mode delivers one message', async () => {
    mocks = [await new MockBackend({ name: 'mx1', lenientDataEnd: true }).start()];
    const actors = [{ name: 'smug', kind: 'smuggler', clients: 1, arrival: { type: 'constant', rate: '20/s' } }];
    proxy = await proxyFor(mocks);
    const strict = await runActors({ actors, targets: [proxy.address], backends: mocks, duration: '450ms' });
    expect(strict.ledger.actors[0].smuggling).toMatchObject({ sent: 9, smuggled: 0 });
    expect(strict.ledger.actors[0].messages).toMatchObject({ attempted: 9, rejected: 9 });
    expect(strict.of('smuggle.sent').every((e) => e.code === 550 && e.enhanced === '5.6.0')).toBe(true);
    expect(mocks[0].received).toHaveLength(0);

    await closeAll(proxy);
    proxy = await proxyFor(mocks, { filters: { strictLineEndings: false } });
    const normalized = await runActors({ actors, targets: [proxy.address], backends: mocks, duration: '450ms' });
    expect(normalized.ledger.actors[0].smuggling).toMatchObject({ sent: 9, smuggled: 0 });
    expect(normalized.ledger.actors[0].messages).toMatchObject({ attempted: 9, accepted: 9, delivered: 9 });
    expect(mocks[0].received.filter((m) => m.smuggled)).toHaveLength(0);
    expect(mocks[0].received).toHaveLength(9);
  });
});
