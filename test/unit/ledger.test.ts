import { describe, expect, it } from 'vitest';
import { EventBus, type MessageOutcome, type ReplyInfo, type SimEvent, type SimEventMap, type SimEventType } from '../../simulator/events.ts';
import { Ledger, ledgerOf } from '../../simulator/ledger.ts';
import { metricSource } from '../../simulator/metrics.ts';
import { parseEvents } from '../../simulator/record.ts';
import { buildSummary } from '../../simulator/summary.ts';
import { evaluate, parseThreshold } from '../../simulator/thresholds.ts';

/** A scripted stream: events at the given times, as producers would emit them. */
function stream() {
  let now = 0;
  const bus = new EventBus(() => now);
  const events: SimEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const at = <K extends SimEventType>(t: number, type: K, data: SimEventMap[K]) => {
    now = t;
    bus.emit(type, data);
  };
  return { events, at };
}

const ok: ReplyInfo = { code: 250, enhanced: '2.0.0', reason: null, text: '2.0.0 Ok' };
const temp: ReplyInfo = { code: 451, enhanced: '4.3.0', reason: null, text: '4.3.0 try later' };
const perm: ReplyInfo = { code: 554, enhanced: '5.7.1', reason: 'worm-attachment', text: '5.7.1 message refused: blocked attachment type' };

function start(at: ReturnType<typeof stream>['at']) {
  at(0, 'run.start', {
    scenario: 'truth',
    description: '',
    lesson: '',
    seed: 1,
    durationMs: 10_000,
    drainMs: 1000,
    target: 'test',
    proxyConfig: null,
    actors: [
      { name: 'office', kind: 'legit', clients: 2, planned: 0 },
      { name: 'bot', kind: 'spammer', clients: 1, planned: 0 },
    ],
    backends: [
      { name: 'mx1', address: '127.0.0.1:1', capacity: 0 },
      { name: 'mx2', address: '127.0.0.1:2', capacity: 0 },
    ],
    thresholds: [],
  });
}

function send(at: ReturnType<typeof stream>['at'], t: number, actor: string, id: string, outcome: MessageOutcome, info = ok, attempts = 1) {
  at(t, 'message.queued', { actor, id, client: '127.10.0.1', size: 1000, recipients: 1 });
  at(t, 'message.attempt', { actor, id, client: '127.10.0.1', attempt: 1 });
  at(t + 5, 'message.outcome', { actor, id, outcome, attempts, size: 1000, ...info });
}

function receive(at: ReturnType<typeof stream>['at'], t: number, backend: string, id: string | null) {
  at(t, 'backend.received', { backend, id, size: 1000, recipients: 1, client: '127.0.0.1', smuggled: false });
}

describe('ledger', () => {
  it('joins what senders were told with what backends received', () => {
    const { events, at } = stream();
    start(at);
    send(at, 100, 'office', 'o1', 'accepted');
    receive(at, 104, 'mx1', 'o1');
    send(at, 200, 'office', 'o2', 'accepted');
    receive(at, 250, 'mx2', 'o2');
    receive(at, 260, 'mx1', 'o2'); // a duplicate
    send(at, 300, 'office', 'o3', 'accepted'); // told 250, never received: lost
    send(at, 400, 'office', 'o4', 'deferred', temp, 6);
    send(at, 500, 'bot', 'b1', 'rejected', perm);
    send(at, 600, 'bot', 'b2', 'abandoned', { code: null, enhanced: null, reason: 'connection-refused', text: 'refused' });
    receive(at, 700, 'mx1', 'b3-smuggled'); // nobody was told 250 for it
    receive(at, 710, 'mx2', null); // not ours
    at(800, 'backend.connection', { backend: 'mx1', client: '127.0.0.1', accepted: true, reason: null, sessions: 3 });
    at(801, 'backend.connection', { backend: 'mx1', client: '127.0.0.1', accepted: true, reason: null, sessions: 5 });
    at(802, 'backend.closed', { backend: 'mx1', sessions: 4 });
    at(803, 'backend.connection', { backend: 'mx2', client: '127.0.0.1', accepted: false, reason: 'capacity', sessions: 9 });
    at(900, 'conn.attempt', { actor: 'bot', client: '127.11.0.1', conn: 1 });
    at(901, 'conn.refused', { actor: 'bot', client: '127.11.0.1', conn: 1, code: 421, enhanced: '4.7.0', reason: 'connections-per-client', text: '' });
    at(902, 'reply', { actor: 'bot', client: '127.11.0.1', conn: 1, stage: 'banner', id: null, code: 421, enhanced: '4.7.0', reason: 'connections-per-client', text: '' });

    const r = ledgerOf(events);
    expect(r.ledger).toEqual({ acceptedByProxy: 3, receivedByBackends: 5, lost: 1, duplicates: 1, unconfirmedRedeliveries: 0, unconfirmed: 1, foreign: 1 });
    const office = r.actors.find((a) => a.name === 'office')!;
    expect(office.messages).toEqual({ attempted: 4, accepted: 3, delivered: 2, deferred: 1, rejected: 0, abandoned: 0, inFlight: 0, lost: 1, duplicates: 1 });
    expect(office.latencies).toEqual([4, 50]);
    expect(office.bytesDelivered).toBe(2000);
    const bot = r.actors.find((a) => a.name === 'bot')!;
    expect(bot.messages).toMatchObject({ attempted: 2, rejected: 1, abandoned: 1, accepted: 0 });
    expect(bot.connections).toEqual({ attempted: 1, refused: 1, greeted: 0 });
    expect(bot.refusals).toEqual({ 'connections-per-client': 1 });
    // a connection without any reply is not a refusal by the target
    expect(bot.failures).toEqual({});
    // sessions without a transaction are no peak sessions
    expect(r.backends).toEqual([
      { name: 'mx1', address: '127.0.0.1:1', received: 3, peakConnections: 0, foreignConnections: 0, refusedConnections: 0, tempfailed: 0, rejected: 0 },
      { name: 'mx2', address: '127.0.0.1:2', received: 2, peakConnections: 0, foreignConnections: 0, refusedConnections: 1, tempfailed: 0, rejected: 0 },
    ]);
  });

  it('counts a copy a backend stored without answering (RFC 1047) as an unconfirmed redelivery, not a duplicate', () => {
    const { events, at } = stream();
    start(at);
    // o1: the outage cut the session after the dot; mx1 had stored it; the retry reached mx2
    at(100, 'message.queued', { actor: 'office', id: 'o1', client: '127.10.0.1', size: 1000, recipients: 1 });
    at(100, 'message.attempt', { actor: 'office', id: 'o1', client: '127.10.0.1', attempt: 1 });
    at(150, 'backend.received', { backend: 'mx1', id: 'o1', size: 1000, recipients: 1, client: '127.0.0.1', smuggled: false, unanswered: true });
    at(1200, 'backend.received', { backend: 'mx2', id: 'o1', size: 1000, recipients: 1, client: '127.0.0.1', smuggled: false });
    at(1210, 'message.outcome', { actor: 'office', id: 'o1', outcome: 'accepted', attempts: 2, size: 1000, ...ok });
    // o2: answered 250 twice: the target sent it twice on its own
    send(at, 300, 'office', 'o2', 'accepted');
    receive(at, 310, 'mx1', 'o2');
    receive(at, 320, 'mx1', 'o2');
    const r = ledgerOf(events);
    expect(r.ledger).toMatchObject({ receivedByBackends: 4, duplicates: 1, unconfirmedRedeliveries: 1, lost: 0 });
    const office = r.actors.find((a) => a.name === 'office')!;
    expect(office.messages).toMatchObject({ delivered: 2, duplicates: 1 });
    // latency runs to the first copy: the mail was there then
    expect(office.latencies).toEqual([10, 50]);
    expect(evaluate([parseThreshold('duplicates', ['== 0']).threshold!], metricSource(r))[0]).toMatchObject({ value: 1, ok: false });
  });

  it('sees no duplicate in a message split by recipient (one transaction per next hop), and one in a recipient served twice', () => {
    const { events, at } = stream();
    start(at);
    const copy = (t: number, backend: string, id: string, to: string[]) => at(t, 'backend.received', { backend, id, size: 1000, recipients: to.length, client: '127.0.0.1', smuggled: false, to });
    send(at, 100, 'office', 'split', 'accepted');
    copy(110, 'mx1', 'split', ['a@example.test', 'b@example.test']);
    copy(120, 'mx2', 'split', ['c@example.test']);
    send(at, 200, 'office', 'twice', 'accepted');
    copy(210, 'mx1', 'twice', ['a@example.test', 'b@example.test']);
    copy(220, 'mx2', 'twice', ['B@example.test']);
    const r = ledgerOf(events);
    expect(r.ledger).toMatchObject({ receivedByBackends: 4, duplicates: 1 });
    expect(r.actors.find((a) => a.name === 'office')!.messages).toMatchObject({ delivered: 2, duplicates: 1 });
  });

  it('peaks on sessions that carry mail and counts the others (health checks) apart', () => {
    const { events, at } = stream();
    start(at);
    at(10, 'backend.connection', { backend: 'mx1', client: '127.0.0.1', accepted: true, reason: null, sessions: 1 });
    at(11, 'backend.closed', { backend: 'mx1', sessions: 0, mail: false });
    at(20, 'backend.connection', { backend: 'mx1', client: '127.0.0.1', accepted: true, reason: null, sessions: 1 });
    at(21, 'backend.connection', { backend: 'mx1', client: '127.0.0.1', accepted: true, reason: null, sessions: 2 });
    at(22, 'backend.mail', { backend: 'mx1', sessions: 1 });
    at(23, 'backend.closed', { backend: 'mx1', sessions: 1, mail: false });
    at(24, 'backend.closed', { backend: 'mx1', sessions: 0, mail: true });
    const mx1 = ledgerOf(events).backends.find((b) => b.name === 'mx1')!;
    expect(mx1).toMatchObject({ peakConnections: 1, foreignConnections: 2 });
  });

  it('keeps messages in flight at the end and connections without a reply apart from what the target did', () => {
    const { events, at } = stream();
    start(at);
    send(at, 100, 'office', 'o1', 'in-flight', { code: null, enhanced: null, reason: 'run-over', text: 'in flight when the run ended' });
    at(200, 'conn.attempt', { actor: 'bot', client: '127.11.0.1', conn: 1 });
    at(201, 'conn.refused', { actor: 'bot', client: '127.11.0.1', conn: 1, code: null, enhanced: null, reason: 'closed-before-banner', text: '' });
    const r = ledgerOf(events);
    const office = r.actors.find((a) => a.name === 'office')!;
    expect(office.messages).toMatchObject({ attempted: 1, inFlight: 1, abandoned: 0 });
    const bot = r.actors.find((a) => a.name === 'bot')!;
    expect(bot).toMatchObject({ refusals: {}, failures: { 'closed-before-banner': 1 }, connections: { attempted: 1, refused: 1 } });
  });

  it('reports every accepted message as lost for a target that accepts and discards', () => {
    const { events, at } = stream();
    start(at);
    for (let i = 0; i < 25; i++) send(at, 100 + i * 10, 'office', `m${i}`, 'accepted');
    const r = ledgerOf(events);
    expect(r.ledger).toMatchObject({ acceptedByProxy: 25, receivedByBackends: 0, lost: 25, duplicates: 0 });
    const office = r.actors.find((a) => a.name === 'office')!;
    expect(office.messages).toMatchObject({ attempted: 25, accepted: 25, delivered: 0, lost: 25 });
    expect(office.latencyMs).toEqual({ p50: null, p95: null, p99: null });
    const results = evaluate([parseThreshold('delivered_ratio{actor:office}', ['>= 0.99']).threshold!, parseThreshold('accepted_ratio{actor:office}', ['>= 0.99']).threshold!, parseThreshold('lost', ['== 0']).threshold!], metricSource(r));
    expect(results.map((x) => [x.value, x.ok])).toEqual([
      [0, false],
      [1, true],
      [25, false],
    ]);
  });

  it('counts smuggled messages by the smuggler, and latency from the first attempt across retries', () => {
    const { events, at } = stream();
    start(at);
    at(10, 'message.queued', { actor: 'office', id: 'r1', client: '127.10.0.1', size: 500, recipients: 1 });
    at(10, 'message.attempt', { actor: 'office', id: 'r1', client: '127.10.0.1', attempt: 1 });
    at(20, 'message.try', { actor: 'office', id: 'r1', attempt: 1, outcome: 'deferred', stage: 'dot', retryInMs: 1000, ...temp });
    at(1020, 'message.attempt', { actor: 'office', id: 'r1', client: '127.10.0.1', attempt: 2 });
    at(1100, 'backend.received', { backend: 'mx1', id: 'r1', size: 500, recipients: 1, client: '127.0.0.1', smuggled: false });
    at(1101, 'message.outcome', { actor: 'office', id: 'r1', outcome: 'accepted', attempts: 2, size: 500, ...ok });
    at(2000, 'smuggle.sent', { actor: 'bot', client: '127.11.0.1', variant: 'lf-dot-lf', id: 's1', smuggledId: 's1-smuggled', ...ok });
    at(2001, 'backend.received', { backend: 'mx1', id: 's1-smuggled', size: 100, recipients: 1, client: '127.0.0.1', smuggled: true });
    at(2002, 'smuggle.sent', { actor: 'bot', client: '127.11.0.1', variant: 'cr-dot-cr', id: 's2', smuggledId: 's2-smuggled', ...perm });
    const r = ledgerOf(events);
    expect(r.actors.find((a) => a.name === 'office')!.latencies).toEqual([1090]);
    const bot = r.actors.find((a) => a.name === 'bot')!;
    expect(bot.smuggling).toEqual({ sent: 2, smuggled: 1, smuggledVariants: ['lf-dot-lf'] });
    const smuggled = evaluate([parseThreshold('smuggled{actor:bot}', ['== 0']).threshold!], metricSource(r));
    expect(smuggled[0]).toMatchObject({ value: 1, ok: false });
  });

  it('gives the same result from a recorded stream (events.jsonl) as live', () => {
    const { events, at } = stream();
    const live = new Ledger();
    start(at);
    send(at, 100, 'office', 'o1', 'accepted');
    receive(at, 130, 'mx1', 'o1');
    send(at, 200, 'bot', 'b1', 'deferred', temp);
    for (const e of events) live.consume(e);
    const recorded = events.map((e) => JSON.stringify(e)).join('\n') + '\n';
    expect(ledgerOf(parseEvents(recorded))).toEqual(live.result());
  });

  it('builds summary.json with the fields of DESIGN.md', () => {
    const { events, at } = stream();
    start(at);
    send(at, 100, 'office', 'o1', 'accepted');
    receive(at, 150, 'mx1', 'o1');
    at(9000, 'run.end', { elapsedMs: 10_500, interrupted: false });
    const s = buildSummary(ledgerOf(events), [parseThreshold('lost', ['== 0']).threshold!], { target: 't', proxyConfig: null, interrupted: false });
    expect(Object.keys(s)).toEqual(expect.arrayContaining(['scenario', 'seed', 'durationMs', 'actors', 'backends', 'ledger', 'thresholds', 'passed']));
    expect(s.actors.office).toMatchObject({
      kind: 'legit',
      clients: 2,
      messages: { attempted: 1, delivered: 1, deferred: 0, rejected: 0, abandoned: 0 },
      connections: { attempted: 0, refused: 0, greeted: 0 },
      latencyMs: { p50: 50, p95: 50, p99: 50 },
    });
    expect(s.backends.mx1).toMatchObject({ received: 1, peakConnections: 0 });
    expect(s.ledger).toMatchObject({ acceptedByProxy: 1, receivedByBackends: 1, lost: 0, duplicates: 0 });
    expect(s.thresholds).toEqual([{ metric: 'lost', rule: '== 0', value: 0, ok: true }]);
    expect(s.passed).toBe(true);
    expect(buildSummary(ledgerOf(events), [], { target: 't', proxyConfig: null, interrupted: true }).passed).toBe(false);
  });
});
