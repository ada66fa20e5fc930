// The fault suite of the relay core, on real sockets: backends that fail in every way
// a real one can (no answer after the dot, 451 to the dot, a reset in the middle of
// DATA, an answer that comes late, a kill with messages in flight), next to a healthy
// one, and clients that abort at every stage, pipeline and hang up, RSET in the
// middle, STARTTLS then QUIT, each a few hundred times. After each: every message told
// 250 is at a backend (0 lost), a message is there twice only where a backend kept a
// copy it never answered (RFC 1047), and the pool, the per-client slots, the global
// count and /state are back to zero.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { proxyFixture } from '../helpers/fixture.ts';
import { RawClient } from '../helpers/raw-smtp.ts';
import { backends, closeAll, message, proxyFor } from '../helpers/proxy.ts';
import { addr, asBackend, drained, sleep, until } from '../helpers/defenses.ts';
import { faultBackend, ledger, type Fault, type FaultBackend, type Stored } from '../helpers/fault-backend.ts';
import { selfSigned, startTls } from '../helpers/tls.ts';
import { MemoryStore } from '../../proxy/store/memory-store.ts';
import type { MockBackend } from '../../simulator/mock-backend.ts';

const f = proxyFixture();

/** A faulty backend, stopped after the test. */
async function faultyBackend(...args: Parameters<typeof faultBackend>): Promise<FaultBackend> {
  const b = await faultBackend(...args);
  f.cleanup.push(b.close);
  return b;
}

const HEALTH = { healthCheck: { interval: '300ms', timeout: '200ms', rise: 1, fall: 2 } };

/** A sending MTA: one message, retried on 4xx (a new connection each time) until 250 or `tries` run out. */
async function deliver(port: number, local: string, id: string, tries = 12): Promise<number> {
  for (let attempt = 0; attempt < tries; attempt++) {
    const c = await RawClient.connect(port, local);
    try {
      if ((await c.read())?.code !== 220) continue;
      const r = await c.send('a@sender.test', ['b@example.test'], message(id), 'mta.test');
      if (r && r.code < 400) return r.code;
      if (r && r.code >= 500) return r.code;
    } finally {
      c.close();
    }
    await sleep(50);
  }
  return 0;
}

/** `n` messages from `parallel` senders at a time; the ids told 250. */
async function deliverAll(port: number, n: number, parallel: number, block: number): Promise<Set<string>> {
  const told = new Set<string>();
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async (_, w) => {
      while (next < n) {
        const i = next++;
        if ((await deliver(port, addr(block, w), `m${i}`)) === 250) told.add(`m${i}`);
      }
    }),
  );
  return told;
}

/** What the mock backends keep, as the ledger reads it (they answer everything they keep). */
const keptBy = (m: MockBackend[]): Stored[] => m.flatMap((b) => b.received.map((r) => ({ id: r.id ?? '?', answered: 250 })));

describe('backend faults', () => {
  it('a faulty backend beside a healthy one (no answer after the dot, 451, reset mid-DATA, late answers): 0 lost, duplicates only RFC 1047, all given back', async () => {
    const cycle: Fault[] = ['ok', 'drop-after-dot', 'tempfail', 'reset-mid-data', 'late', 'ok'];
    const faulty = await faultyBackend('faulty', { fault: (n) => cycle[n % cycle.length], lateMs: 150 });
    f.mocks = await backends(1);
    const store = new MemoryStore(Date.now);
    f.proxy = await proxyFor([asBackend<MockBackend>('faulty', faulty.address), f.mocks[0]], { backends: { ...HEALTH, dataTimeout: '2s' } }, [], { store });
    const told = await deliverAll(f.proxy.address.port, 200, 20, 100);
    expect(told.size).toBe(200);
    const l = ledger(told, [...faulty.stored, ...keptBy(f.mocks)]);
    expect(l.lost).toEqual([]);
    expect(l.duplicates).toEqual([]);
    // the fault that makes RFC 1047 duplicates did happen, and each copy is accounted for
    expect(faulty.stored.some((s) => s.answered === null)).toBe(true);
    expect(await until(() => drained(f.proxy!, store), 5000), JSON.stringify(f.proxy.state())).toBe(true);
    console.log(`faults: 200 messages, ${faulty.stored.length} kept by the faulty backend, ${f.mocks[0].received.length} by the healthy one, ${l.rfc1047.length} RFC 1047 duplicates`);
  });

  it('an answer that comes late: waited for within dataTimeout, a 451 after it (and the copy is an RFC 1047 duplicate at worst)', async () => {
    const faulty = await faultyBackend('slow', { fault: () => 'late', lateMs: 600 });
    const store = new MemoryStore(Date.now);
    f.proxy = await proxyFor([asBackend<MockBackend>('slow', faulty.address)], { backends: { ...HEALTH, dataTimeout: '2s' } }, [], { store });
    const c = await RawClient.connect(f.proxy.address.port, addr(101, 0));
    await c.read();
    expect((await c.send('a@sender.test', ['b@example.test'], message('patient')))?.code).toBe(250);
    c.close();
    await closeAll(f.proxy);
    f.proxy = await proxyFor([asBackend<MockBackend>('slow', faulty.address)], { backends: { ...HEALTH, dataTimeout: '300ms' } }, [], { store });
    const d = await RawClient.connect(f.proxy.address.port, addr(101, 1));
    await d.read();
    const r = await d.send('a@sender.test', ['b@example.test'], message('impatient'));
    expect(r?.code).toBe(451);
    expect(r?.text).toMatch(/^4\.4\.2 mail server did not answer in time/);
    d.close();
    expect(faulty.stored.find((s) => s.id === 'impatient')?.answered).toBeNull();
    expect(await until(() => drained(f.proxy!, store), 3000)).toBe(true);
  });

  it('a backend killed with 20 messages in flight: every sender gets a 4xx or its 250, retries go to the other backend, nothing is lost', async () => {
    const faulty = await faultyBackend('doomed', { fault: () => 'late', lateMs: 400 });
    f.mocks = await backends(1);
    const store = new MemoryStore(Date.now);
    // everything goes to `doomed` while it lives: the healthy one has weight 0
    f.proxy = await proxyFor([asBackend<MockBackend>('doomed', faulty.address), f.mocks[0]], { backends: { ...HEALTH, strategy: 'weighted' } }, [{ weight: 1 }, { weight: 0 }], { store });
    const port = f.proxy.address.port;
    const inFlight = Array.from({ length: 20 }, async (_, i) => {
      const c = await RawClient.connect(port, addr(102, i));
      await c.read();
      const r = await c.send('a@sender.test', ['b@example.test'], message(`k${i}`));
      c.close();
      return r?.code ?? 0;
    });
    expect(await until(() => faulty.stored.length === 20, 5000)).toBe(true);
    faulty.kill();
    const codes = await Promise.all(inFlight);
    expect(codes.every((c) => c === 451)).toBe(true);
    const told = new Set<string>();
    await Promise.all(codes.map(async (_, i) => (await deliver(port, addr(102, i), `k${i}`)) === 250 && told.add(`k${i}`)));
    expect(told.size).toBe(20);
    const l = ledger(told, [...faulty.stored, ...keptBy(f.mocks)]);
    expect(l.lost).toEqual([]);
    expect(l.duplicates).toEqual([]);
    expect(l.rfc1047).toHaveLength(20);
    expect(f.proxy.state().backends[0].health).toBe('down');
    expect(await until(() => drained(f.proxy!, store), 5000)).toBe(true);
  });
});

/** One client session that stops at `stage`; resolves when its connection is gone. */
async function abortAt(port: number, local: string, stage: string, id: string): Promise<void> {
  const steps = ['EHLO quitter.test', 'MAIL FROM:<a@sender.test>', 'RCPT TO:<b@example.test>', 'DATA'];
  const upto: Record<string, number> = { banner: 0, ehlo: 1, mail: 2, rcpt: 3, data: 4, 'mid-body': 4, 'after-dot': 4 };
  if (stage === 'connect') {
    const s = net.connect({ host: '127.0.0.1', port, localAddress: local });
    s.on('error', () => {});
    await new Promise<void>((r) => s.once('connect', () => (s.resetAndDestroy(), r())));
    return;
  }
  const c = await RawClient.connect(port, local);
  await c.read();
  if (stage === 'pipeline') {
    c.write(steps.join('\r\n') + '\r\n' + message(id).slice(0, 80));
    await sleep(2);
  } else if (stage === 'rset') {
    for (const line of steps.slice(0, 3)) await c.cmd(line);
    await c.cmd('RSET');
    await c.cmd('QUIT');
  } else if (stage === 'starttls') {
    await c.cmd('EHLO quitter.test');
    const { tls } = await startTls(c);
    await tls.cmd('QUIT');
    tls.close();
  } else {
    for (const line of steps.slice(0, upto[stage])) await c.cmd(line);
    if (stage === 'mid-body') c.write(message(id).slice(0, 90));
    if (stage === 'after-dot') c.write(message(id) + '.\r\n');
  }
  c.close();
  await c.waitClosed();
}

describe('clients that abort', () => {
  const STAGES = ['connect', 'banner', 'ehlo', 'mail', 'rcpt', 'data', 'mid-body', 'after-dot', 'pipeline', 'rset', 'starttls'];

  it(`at every stage (${STAGES.join(', ')}), 30 times each, 8 at a time: the backend stays up, everything is given back, the next sender delivers`, async () => {
    f.mocks = await backends(1, { latency: 3 });
    const store = new MemoryStore(Date.now);
    f.proxy = await proxyFor(f.mocks, { tls: selfSigned(), connections: { perClient: 4, max: 50, rate: 'off', networkRate: 'off' }, backends: { ...HEALTH } }, [{ maxConnections: 6 }], { store });
    const port = f.proxy.address.port;
    const jobs = STAGES.flatMap((stage) => Array.from({ length: 30 }, (_, i) => ({ stage, i })));
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        while (next < jobs.length) {
          const { stage, i } = jobs[next++];
          await abortAt(port, addr(103, w), stage, `${stage}-${i}`);
        }
      }),
    );
    expect(await until(() => drained(f.proxy!, store), 5000), JSON.stringify(f.proxy.state())).toBe(true);
    expect(f.proxy.state().backends[0]).toMatchObject({ health: 'up', failures: 0 });
    // only a whole message with its final dot may have arrived (the client left before the answer)
    expect(f.mocks[0].received.every((m) => m.id?.startsWith('after-dot-'))).toBe(true);
    // perClient 4: every address can open its 4 connections again
    const again = await Promise.all(Array.from({ length: 4 }, () => RawClient.connect(port, addr(103, 0))));
    expect((await Promise.all(again.map((c) => c.read()))).map((r) => r?.code)).toEqual([220, 220, 220, 220]);
    for (const c of again) c.close();
    expect(await deliver(port, addr(103, 9), 'after-the-storm')).toBe(250);
    console.log(`faults: ${jobs.length} aborted sessions, ${f.mocks[0].received.length} whole messages arrived (after-dot), all slots and leases back`);
  });
});
