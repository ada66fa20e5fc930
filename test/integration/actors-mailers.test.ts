// legit, spammer and worm against the proxy and against a bare mock backend.
import { afterEach, describe, expect, it } from 'vitest';
import { backends, closeAll, proxyFor } from '../helpers/proxy.ts';
import { MockBackend } from '../../simulator/mock-backend.ts';
import { runActors } from '../../simulator/harness.ts';
import { rng } from '../../simulator/random.ts';
import type { Proxy } from '../../proxy/proxy.ts';
import { scriptedBackend } from '../helpers/scripted-backend.ts';

let mocks: MockBackend[] = [];
let proxy: Proxy | undefined;
afterEach(async () => {
  await closeAll(proxy, mocks);
  proxy = undefined;
  mocks = [];
});

const at = (m: MockBackend) => ({ host: m.host, port: m.port });

describe('legit', () => {
  it('delivers every message to a bare mock backend, reusing connections', async () => {
    mocks = await backends(1);
    const r = await runActors({
      actors: [{ name: 'office', kind: 'legit', clients: 3, arrival: { type: 'constant', rate: '20/s' }, size: '1KB..4KB' }],
      targets: [at(mocks[0])],
      backends: mocks,
      duration: '1500ms',
    });
    const office = r.ledger.actors.find((a) => a.name === 'office')!;
    expect(office.messages.attempted).toBe(30);
    expect(office.messages).toMatchObject({ accepted: 30, delivered: 30, lost: 0, duplicates: 0, deferred: 0 });
    // kept connections: far fewer sessions than messages
    expect(office.connections.attempted).toBeLessThanOrEqual(10);
    expect(new Set(mocks[0].received.map((m) => m.clientAddress))).toEqual(new Set(r.plan.actors[0].clients));
    expect(mocks[0].received.map((m) => m.id).sort()).toEqual(r.of('message.queued').map((e) => e.id).sort());
    expect(office.latencyMs.p95).not.toBeNull();
  });

  it('retries 4xx through the proxy until delivered; latency counts from the first attempt', async () => {
    mocks = await backends(1, { tempfail: 0.4, random: rng(5, 'tempfail') });
    proxy = await proxyFor(mocks);
    const r = await runActors({
      actors: [{ name: 'office', kind: 'legit', clients: 4, rate: '15/s', retry: { after: '100ms', max: 10, backoff: 1.5 } }],
      targets: [proxy.address],
      backends: mocks,
      duration: '1500ms',
      drain: '8s',
    });
    const office = r.ledger.actors[0];
    const retried = r.of('message.try').filter((e) => e.retryInMs !== null);
    expect(retried.length).toBeGreaterThan(0);
    expect(retried.every((e) => e.code === 451)).toBe(true);
    expect(office.messages.attempted).toBeGreaterThan(5);
    expect(office.messages.delivered).toBe(office.messages.attempted);
    expect(r.ledger.ledger).toMatchObject({ lost: 0, duplicates: 0 });
    expect(office.latencies[office.latencies.length - 1]).toBeGreaterThanOrEqual(80);
  });

  it('retries connections refused with 421 and gets through', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { connections: { perClient: 1, max: 5000, rate: 'off' } });
    const r = await runActors({
      actors: [{ name: 'office', kind: 'legit', clients: 1, connections: 3, arrival: { type: 'bursts', every: '10s', size: 6 }, retry: { after: '100ms', max: 10 } }],
      targets: [proxy.address],
      backends: mocks,
      duration: '1s',
      drain: '8s',
    });
    const refused = r.of('conn.refused');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]).toMatchObject({ code: 421, enhanced: '4.7.0', reason: 'connections-per-client' });
    expect(r.ledger.actors[0].messages).toMatchObject({ attempted: 6, delivered: 6 });
  });
});

describe('spammer', () => {
  it('gives up on the first 4xx: one attempt per message, every message deferred', async () => {
    mocks = await backends(1, { tempfail: 1, random: rng(1) });
    const r = await runActors({
      actors: [{ name: 'bot', kind: 'spammer', clients: 2, rate: '20/s', recipients: '5..10' }],
      targets: [at(mocks[0])],
      backends: mocks,
      duration: '1s',
    });
    const bot = r.ledger.actors[0];
    expect(bot.messages.attempted).toBeGreaterThan(5);
    expect(bot.messages.deferred).toBe(bot.messages.attempted);
    expect(r.of('message.attempt').length).toBe(bot.messages.attempted);
    expect(r.of('message.outcome').every((e) => e.attempts === 1 && e.code === 451)).toBe(true);
  });

  it('is rejected by a backend that rejects everything (554, no retry, nothing received)', async () => {
    mocks = await backends(1, { reject: 1, random: rng(2) });
    const r = await runActors({ actors: [{ name: 'bot', kind: 'spammer', clients: 1, arrival: { type: 'constant', rate: '10/s' } }], targets: [at(mocks[0])], backends: mocks, duration: '500ms' });
    expect(r.ledger.actors[0].messages).toMatchObject({ attempted: 5, rejected: 5, accepted: 0 });
    expect(r.ledger.backends[0]).toMatchObject({ received: 0, rejected: 5 });
  });

  it('sends to many recipients through a proxy without spam filter; the default filter scores it as spam', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { filters: { spam: { rejectScore: 1000 } } });
    const actors = [{ name: 'bot', kind: 'spammer', clients: 2, arrival: { type: 'constant', rate: '10/s' }, recipients: '20..30' }];
    const r = await runActors({ actors, targets: [proxy.address], backends: mocks, duration: '600ms' });
    expect(r.ledger.actors[0].messages).toMatchObject({ attempted: 6, delivered: 6 });
    expect(mocks[0].received.every((m) => m.to.length >= 20 && m.to.length <= 30)).toBe(true);

    await closeAll(proxy);
    proxy = await proxyFor(mocks);
    const filtered = await runActors({ actors, targets: [proxy.address], backends: mocks, duration: '600ms' });
    const outcomes = filtered.of('message.outcome');
    expect(outcomes.filter((e) => e.reason === 'spam').length).toBeGreaterThan(0);
    expect(outcomes.every((e) => e.outcome !== 'accepted' || e.code === 250)).toBe(true);
  });
});

describe('worm', () => {
  it('mails invoice.pdf.exe on fresh connections to a bare mock backend', async () => {
    mocks = [await new MockBackend({ name: 'mx1' }).start()];
    const r = await runActors({
      actors: [{ name: 'worm', kind: 'worm', clients: 2, arrival: { type: 'bursts', every: '10s', size: 6, spread: '200ms' }, recipients: '10..12' }],
      targets: [at(mocks[0])],
      backends: mocks,
      duration: '1s',
    });
    expect(r.ledger.actors[0].messages.delivered).toBe(6);
    expect(r.ledger.actors[0].connections.attempted).toBe(6);
    const raw = mocks[0].received[0].raw.toString('latin1');
    expect(raw).toMatch(/filename="invoice\.pdf\.exe"/);
    expect(mocks[0].received[0].to.length).toBeGreaterThanOrEqual(10);
  });

  it('is refused by the proxy attachment filter: 554, nothing reaches the backend', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks);
    const r = await runActors({
      actors: [{ name: 'worm', kind: 'worm', clients: 2, arrival: { type: 'bursts', every: '10s', size: 6, spread: '200ms' } }],
      targets: [proxy.address],
      backends: mocks,
      duration: '1s',
    });
    expect(r.ledger.actors[0].messages).toMatchObject({ attempted: 6, rejected: 6, accepted: 0 });
    expect(r.of('message.outcome')[0]).toMatchObject({ code: 554, enhanced: '5.7.1', reason: 'worm-attachment' });
    expect(mocks[0].received).toHaveLength(0);
  });
});

describe('spoofer', () => {
  it("claims its victim in From, and in MAIL FROM unless it has a domain of its own", async () => {
    mocks = [await new MockBackend({ name: 'mx1' }).start()];
    const r = await runActors({
      actors: [
        { name: 'envelope', kind: 'spoofer', clients: 1, arrival: { type: 'bursts', every: '10s', size: 2, spread: '100ms' } },
        { name: 'lookalike', kind: 'spoofer', clients: 1, senderDomain: 'mail.lookalike.test', impersonate: 'cfo@bank.test', arrival: { type: 'bursts', every: '10s', size: 2, spread: '100ms' } },
      ],
      targets: [at(mocks[0])],
      backends: mocks,
      duration: '1s',
    });
    expect(r.ledger.actors.map((a) => a.messages.delivered)).toEqual([2, 2]);
    const sent = (from: RegExp) => mocks[0].received.filter((m) => from.test(m.from));
    const envelope = sent(/^ceo@bank\.test$/);
    const lookalike = sent(/@mail\.lookalike\.test$/);
    expect([envelope.length, lookalike.length]).toEqual([2, 2]);
    expect(envelope[0].raw.toString('latin1')).toMatch(/^From: .*<?ceo@bank\.test>?\r$/m);
    expect(lookalike[0].raw.toString('latin1')).toMatch(/^From: .*<?cfo@bank\.test>?\r$/m);
    expect(lookalike[0].raw.toString('latin1')).toMatch(/^Subject: Urgent: wire transfer today\r$/m);
  });
});

describe('pipelining', () => {
  let scripted: Awaited<ReturnType<typeof scriptedBackend>> | undefined;
  afterEach(async () => {
    await scripted?.close();
    scripted = undefined;
  });
  const EHLO = '250-scripted.test\r\n250 PIPELINING';
  const office = (extra: Record<string, unknown> = {}) => ({
    name: 'office',
    kind: 'legit' as const,
    clients: 1,
    connections: 1,
    arrival: { type: 'bursts' as const, every: '10s', size: 2 },
    recipients: 3,
    size: '1KB',
    timeout: '1s',
    retry: { max: 0 },
    ...extra,
  });

  it('sends MAIL, every RCPT and DATA in one go when the server offers PIPELINING', async () => {
    // this server answers nothing until it has the whole group: a client that waits for
    // the reply to MAIL before its RCPT never gets one
    scripted = await scriptedBackend((line, socket) => {
      if (/^EHLO/.test(line)) return EHLO;
      if (/^(MAIL|RCPT)/.test(line)) return null;
      if (line === 'DATA') {
        socket.write('250 2.1.0 ok\r\n' + '250 2.1.5 ok\r\n'.repeat(3));
        return '354 go';
      }
      return line === '.' ? '250 2.0.0 queued' : '250 ok';
    });
    const r = await runActors({ actors: [office()], targets: [{ host: '127.0.0.1', port: scripted.port }], duration: '100ms', drain: '5s' });
    expect(r.ledger.actors[0].messages).toMatchObject({ attempted: 2, accepted: 2 });
    expect(scripted.messages).toHaveLength(2);
    expect(r.ledger.actors[0].connections.attempted).toBe(1);
    // each reply is still recorded at its stage
    expect(r.of('reply').filter((e) => e.id === 'office-1').map((e) => e.stage)).toEqual(['mail', 'rcpt', 'rcpt', 'rcpt', 'data', 'dot']);

    await scripted.close();
    scripted = undefined;
    scripted = await scriptedBackend((line, socket) => {
      if (/^EHLO/.test(line)) return EHLO;
      if (/^(MAIL|RCPT)/.test(line)) return null;
      if (line === 'DATA') socket.write('250 2.1.0 ok\r\n' + '250 2.1.5 ok\r\n'.repeat(3));
      return line === 'DATA' ? '354 go' : '250 ok';
    });
    const waiting = await runActors({ actors: [office({ pipelining: false })], targets: [{ host: '127.0.0.1', port: scripted.port }], duration: '100ms', drain: '5s' });
    expect(waiting.ledger.actors[0].messages.accepted).toBe(0);
    expect(scripted.lines.filter((l) => l.startsWith('RCPT'))).toHaveLength(0);
  });

  it('after a refused MAIL reads and drops the replies it is owed, resets and keeps the connection', async () => {
    scripted = await scriptedBackend((line) => {
      if (/^EHLO/.test(line)) return EHLO;
      if (/^MAIL/.test(line)) return '550 5.7.1 not from you';
      if (/^(RCPT|DATA)/.test(line)) return '503 5.5.1 need MAIL first';
      return '250 ok';
    });
    const r = await runActors({ actors: [office()], targets: [{ host: '127.0.0.1', port: scripted.port }], duration: '100ms', drain: '5s' });
    expect(r.ledger.actors[0].messages).toMatchObject({ attempted: 2, rejected: 2 });
    expect(r.of('message.outcome').map((e) => [e.code, e.text])).toEqual([
      [550, '5.7.1 not from you'],
      [550, '5.7.1 not from you'],
    ]);
    // the 503s are consequences of pipelining, not the server's verdict: not recorded
    expect(r.of('reply').map((e) => e.stage)).toEqual(['ehlo', 'mail', 'rset', 'mail', 'rset']);
    expect(scripted.lines.filter((l) => l === 'RSET')).toHaveLength(2);
    expect(r.ledger.actors[0].connections.attempted).toBe(1);
  });
});

describe('the end of the drain', () => {
  it('drains a backlog left when the arrivals end over the connections it kept', async () => {
    // 30 messages arrive at once for one client with 2 connections; each takes some 40 ms,
    // so most of them are still queued when the 100 ms of arrivals are over
    mocks = [await new MockBackend({ name: 'slow', latency: 10 }).start()];
    const r = await runActors({
      actors: [{ name: 'office', kind: 'legit', clients: 1, connections: 2, arrival: { type: 'bursts', every: '10s', size: 30 }, size: '1KB', recipients: 1 }],
      targets: [at(mocks[0])],
      backends: mocks,
      duration: '100ms',
      drain: '10s',
    });
    const office = r.ledger.actors[0];
    expect(office.messages).toMatchObject({ attempted: 30, delivered: 30 });
    expect(r.of('message.outcome').filter((e) => e.t > 200).length).toBeGreaterThan(10);
    // a new connection for every message of the backlog would be 20 or more
    expect(office.connections.attempted).toBe(2);
  });

  it('calls a message still waiting for its reply in flight at the end, not abandoned', async () => {
    // every reply to MAIL takes longer than the whole run: the drain ends with the messages on the wire
    mocks = [await new MockBackend({ name: 'slow', latency: 5000 }).start()];
    const r = await runActors({
      actors: [{ name: 'office', kind: 'legit', clients: 2, arrival: { type: 'constant', rate: '4/s' }, retry: { after: '100ms', max: 3 } }],
      targets: [at(mocks[0])],
      backends: mocks,
      duration: '500ms',
      drain: '500ms',
    });
    const office = r.ledger.actors.find((a) => a.name === 'office')!;
    expect(office.messages.attempted).toBe(2);
    expect(office.messages).toMatchObject({ inFlight: 2, abandoned: 0, accepted: 0 });
    expect(r.of('message.outcome').map((e) => [e.outcome, e.reason])).toEqual([
      ['in-flight', 'run-over'],
      ['in-flight', 'run-over'],
    ]);
  });
});
