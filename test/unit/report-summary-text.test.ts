// The k6-like end summary: thresholds first with ✓/✗ and the measured value, then
// actors, backends, the defenses that fired, the ledger.
import { describe, expect, it } from 'vitest';
import { modelOf } from '../../reports/model/run-model.ts';
import { formatSummary } from '../../reports/text/summary.ts';
import type { SimEvent } from '../../simulator/events.ts';
import { runStart, stream, summaryFixture } from './report-fixtures.ts';

describe('end summary', () => {
  const text = formatSummary(summaryFixture(), { outDir: 'runs/x', defenses: modelOf(stream()).defenses.result(), files: ['summary.json', 'report.html'] });

  it('puts the thresholds first, then actors, backends, defenses and the ledger', () => {
    const order = ['THRESHOLDS', 'ACTORS', 'BACKENDS', 'DEFENSES', 'LEDGER'].map((h) => text.indexOf(`  ${h}`));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('marks each threshold ✓ or ✗ with what was measured', () => {
    expect(text).toContain('✗ delivered_ratio{actor:office} >= 0.99  (0.6667)');
    expect(text).toContain('✓ lost == 0  (0)');
    expect(text).toContain('✗ some thresholds failed   (runs/x/: summary.json, report.html)');
  });

  it('gives one line per defense that fired: what it refused, what the throttle held back', () => {
    expect(text).toMatch(/^ {4}connections-per-client {2}421 4\.7\.0 {2}refused 3 connections$/m);
    expect(text).toMatch(/^ {4}message-rate +450 4\.7\.1 {2}refused 1 recipient$/m);
    expect(text).toMatch(/^ {4}bandwidth throttle .*throttled 2\.0 KB \(held 0\.9s in all, up to 2 clients at once\)$/m);
    // what was no defense comes under a heading of its own
    expect(text).toMatch(/^ {2}INFRASTRUCTURE {2}\(not defenses[^\n]*\n {4}no-backend +451 4\.3\.2 {2}refused 1 recipient: the mail servers struggled$/m);
    expect(text).toMatch(/LEDGER +accepted by proxy 2 +received by backends 3 +lost 0 +duplicates 1/);
  });

  it('says how often and how long stress mode was on', () => {
    const events = [
      ...stream(),
      { type: 'proxy.event', t: 1000, instance: 0, name: 'stress', data: { active: true, connections: 70, max: 100 } },
      { type: 'proxy.event', t: 3500, instance: 0, name: 'stress', data: { active: false, connections: 59, max: 100 } },
    ] as Parameters<typeof modelOf>[0] extends Iterable<infer E> ? E[] : never;
    const model = modelOf(events);
    const stressed = formatSummary(summaryFixture(), { defenses: model.defenses.result() });
    expect(stressed).toMatch(/^ {4}stress mode .*on 1 time, 2\.5s in all: shorter timeouts, the idlest sessions shed at the cap$/m);
    expect(model.log.entries.some((e) => e.kind === 'stress' && /stress mode ON at 70\/100/.test(e.text))).toBe(true);
  });

  it('for another target: refusals as the senders saw them, and connections without any reply apart', () => {
    const refused = (t: number, conn: number, code: number | null, reason: string): SimEvent => ({ type: 'conn.refused', t, actor: 'bots', client: '127.11.0.1', conn, code, enhanced: code ? '4.7.0' : null, reason, text: '' });
    const model = modelOf([
      runStart({ target: '127.0.0.1:2925', proxyConfig: null, external: true }),
      refused(100, 1, 421, 'connections-per-client'),
      { type: 'reply', t: 100, actor: 'bots', client: '127.11.0.1', conn: 1, stage: 'banner', id: null, code: 421, enhanced: '4.7.0', reason: 'connections-per-client', text: '4.7.0 mx Error: too many connections from 127.11.0.1' },
      refused(200, 2, null, 'closed-before-banner'),
      refused(300, 3, null, 'closed-before-banner'),
      refused(400, 4, null, 'connection-refused'),
    ]);
    const text = formatSummary(summaryFixture(), { defenses: model.defenses.result() });
    expect(text).toMatch(/^ {2}DEFENSES {2}\(as the senders saw the replies, classed by code, enhanced code and text\)\n {4}connections-per-client {2}421 4\.7\.0 {2}refused 1 connection$/m);
    expect(text).toMatch(/^ {4}closed-before-banner +no reply {3}2 connections: closed before any banner: a target with no mail server up \(a cold start\), or a TCP-level limit that speaks no SMTP$/m);
    expect(text).toMatch(/^ {4}connection-refused +no reply {3}1 connection: nothing listened/m);
    expect(text.indexOf('INFRASTRUCTURE')).toBeGreaterThan(text.indexOf('DEFENSES'));
  });

  it('says so when no defense fired', () => {
    const quiet = formatSummary(summaryFixture(), { defenses: { source: 'proxy', refusals: [], trouble: [], failures: [], throttle: { bytes: 0, waitMs: 0, peakClients: 0, samples: 0 }, stress: { episodes: 0, activeMs: 0 } } });
    expect(quiet).toContain('DEFENSES  none fired');
  });
});
