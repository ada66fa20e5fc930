// A small hand-made event stream for the report tests: an office that sends three
// messages (one deferred), a flood refused three times out of four, a backend that
// goes down, proxy state and throttle samples. Times are chosen to land in known seconds.
import type { SimEvent } from '../../simulator/events.ts';
import type { RunSummary } from '../../simulator/summary.ts';

export function runStart(over: Partial<Extract<SimEvent, { type: 'run.start' }>> = {}): Extract<SimEvent, { type: 'run.start' }> {
  return {
    type: 'run.start',
    t: 0,
    scenario: 'fixture',
    description: 'a fixture',
    lesson: 'Watch the flood.\nThe office must not notice.',
    seed: 1,
    durationMs: 3000,
    drainMs: 1000,
    target: 'in-process 127.0.0.1:2525',
    proxyConfig: '/x/configs/default.yaml',
    actors: [
      { name: 'office', kind: 'legit', clients: 2, planned: 3 },
      { name: 'bots', kind: 'flood', clients: 1, planned: 4 },
    ],
    backends: [
      { name: 'mx1', address: '127.0.0.1:1', capacity: 10 },
      { name: 'mx2', address: '127.0.0.1:2', capacity: 0 },
    ],
    thresholds: ['delivered_ratio{actor:office}'],
    ...over,
  };
}

const reply = (t: number, actor: string, conn: number, stage: 'banner' | 'rcpt', code: number, enhanced: string, reason: string): SimEvent => ({
  type: 'reply',
  t,
  actor,
  client: '127.0.0.2',
  conn,
  stage,
  id: null,
  code,
  enhanced,
  reason,
  text: `${enhanced} refused`,
});

const refusal = (t: number, stage: string, reason: string, code: number, enhanced: string): SimEvent => ({
  type: 'proxy.event',
  t,
  instance: 0,
  name: 'refusal',
  data: { client: '127.0.0.2', stage, reason, code, enhanced, text: 'refused' },
});

const state = (t: number, active: number): SimEvent => ({
  type: 'proxy.state',
  t,
  instance: 0,
  state: {
    connections: { active, max: 100, sessions: 0 },
    backends: [
      { name: 'mx1', health: 'up', maxConnections: 50 },
      { name: 'mx2', health: 'up', maxConnections: 50 },
    ],
    defenses: { refusals: {}, throttle: { perClient: 1024, global: 4096 } },
  },
});

export function stream(): SimEvent[] {
  const e: SimEvent[] = [
    runStart(),
    { type: 'run.phase', t: 0, phase: 'running' },
    // office-1: tried at 100, received by mx2 at 300, accepted at 350
    { type: 'message.queued', t: 90, actor: 'office', id: 'office-1', client: '127.0.0.1', size: 2048, recipients: 1 },
    { type: 'message.attempt', t: 100, actor: 'office', id: 'office-1', client: '127.0.0.1', attempt: 1 },
    { type: 'conn.attempt', t: 100, actor: 'office', client: '127.0.0.1', conn: 1 },
    { type: 'conn.greeted', t: 110, actor: 'office', client: '127.0.0.1', conn: 1, ms: 10 },
    { type: 'backend.connection', t: 200, backend: 'mx2', client: '127.0.0.1', accepted: true, reason: null, sessions: 1 },
    { type: 'backend.received', t: 300, backend: 'mx2', id: 'office-1', size: 2048, recipients: 1, client: '127.0.0.1', smuggled: false },
    { type: 'message.try', t: 350, actor: 'office', id: 'office-1', attempt: 1, outcome: 'accepted', stage: 'dot', retryInMs: null, code: 250, enhanced: '2.0.0', reason: null, text: 'ok' },
    { type: 'message.outcome', t: 350, actor: 'office', id: 'office-1', outcome: 'accepted', attempts: 1, size: 2048, code: 250, enhanced: '2.0.0', reason: null, text: 'ok' },
    { type: 'conn.closed', t: 400, actor: 'office', client: '127.0.0.1', conn: 1, heldMs: 290, by: 'client' },
    { type: 'mark', t: 1000, title: 'the flood starts', predict: 'will the office notice?' },
    state(1000, 5),
    // the flood: four connections, three refused within a second
    ...[11, 12, 13, 14].map((conn): SimEvent => ({ type: 'conn.attempt', t: 1000 + conn, actor: 'bots', client: '127.0.0.2', conn })),
    { type: 'conn.greeted', t: 1020, actor: 'bots', client: '127.0.0.2', conn: 11, ms: 5 },
    ...[12, 13, 14].flatMap((conn): SimEvent[] => [
      refusal(1020 + conn, 'connect', 'connections-per-client', 421, '4.7.0'),
      { type: 'conn.refused', t: 1030 + conn, actor: 'bots', client: '127.0.0.2', conn, code: 421, enhanced: '4.7.0', reason: 'connections-per-client', text: '4.7.0 too many' },
      reply(1030 + conn, 'bots', conn, 'banner', 421, '4.7.0', 'connections-per-client'),
    ]),
    // office-2: tried at 1200, received by mx1 at 1700
    { type: 'message.queued', t: 1190, actor: 'office', id: 'office-2', client: '127.0.0.1', size: 1024, recipients: 1 },
    { type: 'message.attempt', t: 1200, actor: 'office', id: 'office-2', client: '127.0.0.1', attempt: 1 },
    { type: 'conn.attempt', t: 1200, actor: 'office', client: '127.0.0.1', conn: 2 },
    { type: 'conn.greeted', t: 1210, actor: 'office', client: '127.0.0.1', conn: 2, ms: 10 },
    { type: 'backend.connection', t: 1300, backend: 'mx1', client: '127.0.0.1', accepted: true, reason: null, sessions: 2 },
    { type: 'backend.received', t: 1700, backend: 'mx1', id: 'office-2', size: 1024, recipients: 1, client: '127.0.0.1', smuggled: false },
    { type: 'backend.closed', t: 1750, backend: 'mx1', sessions: 0 },
    { type: 'message.try', t: 1750, actor: 'office', id: 'office-2', attempt: 1, outcome: 'accepted', stage: 'dot', retryInMs: null, code: 250, enhanced: '2.0.0', reason: null, text: 'ok' },
    { type: 'message.outcome', t: 1750, actor: 'office', id: 'office-2', outcome: 'accepted', attempts: 1, size: 1024, code: 250, enhanced: '2.0.0', reason: null, text: 'ok' },
    // office-3: deferred by a rate limit; a stray copy of office-1 reaches mx2 (a duplicate, not a second delivery)
    { type: 'message.queued', t: 2000, actor: 'office', id: 'office-3', client: '127.0.0.1', size: 512, recipients: 1 },
    { type: 'message.attempt', t: 2010, actor: 'office', id: 'office-3', client: '127.0.0.1', attempt: 1 },
    { type: 'conn.attempt', t: 2010, actor: 'office', client: '127.0.0.1', conn: 3 },
    { type: 'conn.greeted', t: 2020, actor: 'office', client: '127.0.0.1', conn: 3, ms: 10 },
    refusal(2030, 'rcpt', 'message-rate', 450, '4.7.1'),
    reply(2040, 'office', 3, 'rcpt', 450, '4.7.1', 'message-rate'),
    { type: 'message.try', t: 2040, actor: 'office', id: 'office-3', attempt: 1, outcome: 'deferred', stage: 'rcpt', retryInMs: null, code: 450, enhanced: '4.7.1', reason: 'message-rate', text: 'later' },
    { type: 'message.outcome', t: 2040, actor: 'office', id: 'office-3', outcome: 'deferred', attempts: 1, size: 512, code: 450, enhanced: '4.7.1', reason: 'message-rate', text: 'later' },
    { type: 'backend.received', t: 2050, backend: 'mx2', id: 'office-1', size: 2048, recipients: 1, client: '127.0.0.1', smuggled: false },
    { type: 'throttle', t: 2500, instance: 0, windowMs: 500, clients: 2, bytes: 2048, waitMs: 900 },
    state(2500, 7),
    { type: 'backend.outage', t: 2600, backend: 'mx1', state: 'down' },
    { type: 'proxy.event', t: 2610, instance: 0, name: 'failover', data: { backend: 'mx1', why: 'connect refused' } },
    refusal(2620, 'rcpt', 'no-backend', 451, '4.3.2'),
    { type: 'run.phase', t: 3000, phase: 'draining' },
    { type: 'run.phase', t: 3100, phase: 'stopping' },
    { type: 'run.end', t: 3200, elapsedMs: 3200, interrupted: false },
  ];
  return e;
}

/** A summary.json like the simulator writes, for the renderers. */
export function summaryFixture(over: Partial<RunSummary> = {}): RunSummary {
  const actor = (kind: string, m: Partial<RunSummary['actors'][string]['messages']> = {}, c: Partial<RunSummary['actors'][string]['connections']> = {}) => ({
    kind,
    clients: 2,
    messages: { attempted: 0, accepted: 0, delivered: 0, deferred: 0, rejected: 0, abandoned: 0, inFlight: 0, lost: 0, duplicates: 0, ...m },
    connections: { attempted: 0, refused: 0, greeted: 0, ...c },
    latencyMs: kind === 'legit' ? { p50: 120, p95: 300, p99: 450 } : { p50: null, p95: null, p99: null },
    bytesDelivered: 0,
    refusals: {},
    failures: {},
  });
  return {
    scenario: 'fixture',
    seed: 1,
    durationMs: 3000,
    elapsedMs: 3200,
    target: 'in-process 127.0.0.1:2525',
    proxyConfig: '/x/configs/default.yaml',
    interrupted: false,
    actors: {
      office: actor('legit', { attempted: 3, accepted: 2, delivered: 2, deferred: 1 }, { attempted: 3, greeted: 3 }),
      bots: actor('flood', {}, { attempted: 4, refused: 3, greeted: 1 }),
    },
    backends: {
      mx1: { address: '127.0.0.1:2601', received: 1, peakConnections: 2, foreignConnections: 0, refusedConnections: 0, tempfailed: 0, rejected: 0 },
      mx2: { address: '127.0.0.1:2602', received: 2, peakConnections: 1, foreignConnections: 0, refusedConnections: 0, tempfailed: 0, rejected: 0 },
    },
    ledger: { acceptedByProxy: 2, receivedByBackends: 3, lost: 0, duplicates: 1, unconfirmedRedeliveries: 0, unconfirmed: 0, foreign: 0 },
    thresholds: [
      { metric: 'delivered_ratio{actor:office}', rule: '>= 0.99', value: 0.6667, ok: false },
      { metric: 'lost', rule: '== 0', value: 0, ok: true },
    ],
    passed: false,
    ...over,
  };
}
