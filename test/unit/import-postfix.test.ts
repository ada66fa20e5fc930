// Reading a Postfix log: sessions by smtpd process and by postscreen's client port,
// a message followed by its queue id across smtpd, cleanup, qmgr and smtp lines
// (interleaved with another's), anvil's refusals and statistics, and who each client was.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { classify, peakOverlap } from '../../simulator/import/classify.ts';
import { LogClock } from '../../simulator/import/log-time.ts';
import { readPostfixLog } from '../../simulator/import/postfix.ts';
import { refusalOf } from '../../simulator/import/refusals.ts';

const FIXTURE = readFileSync(path.join(import.meta.dirname, '../fixtures/postfix-maillog.txt'), 'utf8');
const o = readPostfixLog(FIXTURE);
const byAddress = new Map(classify(o).map((r) => [r.address, r]));

describe('the Postfix reader', () => {
  it('uses every Postfix line it knows, and counts the others', () => {
    expect(o.format).toBe('postfix');
    expect(o.lines).toBe(FIXTURE.trim().split('\n').length);
    // the master's start line and dovecot's are not traffic
    expect(o.skipped).toBe(2);
    expect(o.resolutionMs).toBe(1000);
    expect(o.last - o.first).toBe(5 * 60_000);
  });

  it('follows a message by its queue id from client= to each recipient, another one interleaved', () => {
    const m = o.messages.find((x) => x.queueId === '4B7E21A0C3')!;
    expect(m).toMatchObject({ client: '192.0.2.10', received: true, size: 4210, recipients: 2, messageId: '20241201100002.1@partner.example', sent: 2, deferred: 0, refusal: null });
    expect(m.domains.sort()).toEqual(['example.net', 'example.org']);
    expect(m.delays).toEqual([0.4, 0.5]);
    // deferred by one relay, then sent by the other minutes later
    const d = o.messages.find((x) => x.queueId === '4B9F02A0D1')!;
    expect(d).toMatchObject({ client: '192.0.2.11', size: 52113, sent: 1, deferred: 1 });
    // long queue ids (enable_long_queue_ids = yes) too
    expect(o.messages.find((x) => x.queueId === '4Q7Xy1Lm3pz9vHc')).toMatchObject({ received: true, recipients: 30, sent: 1 });
    // queued, then refused by cleanup's header check: an executable attachment
    expect(o.messages.find((x) => x.queueId === '4F2A1C0D11')).toMatchObject({ client: '2001:db8:77:1::5', received: false, refusal: 'worm' });
  });

  it('counts the relays as the backends were used, with their transmission times', () => {
    expect(o.relays.map((r) => [r.host, r.sent, r.deferred, r.transmit])).toEqual([
      ['store1.example.org', 2, 1, [0.2, 2.9]],
      ['store2.example.org', 2, 0, [0.3, 0.5]],
    ]);
  });

  it('reads the limits the log shows: anvil refusals (the count refused at, minus one) and statistics', () => {
    expect(o.hints).toMatchObject({ connectionLimit: 3, messageRate: 30, connectionRate: null, rateUnitMs: 60_000, dnsblZones: ['zen.spamhaus.org'] });
    expect(o.hints.peaks.get('203.0.113.77')).toEqual({ connections: 3, connectionRate: 5, messageRate: 0 });
  });

  it("reconciles a session's transactions with its disconnect summary (mail=2/4)", () => {
    const s = o.sessions.find((x) => x.client === '203.0.113.200')!;
    expect(s.mail).toEqual({ tried: 4, failed: 2 });
    expect(s.transactions.map((t) => [t.queueId, t.mailRefusal])).toEqual([
      ['4Q7Xy12Kz9z9vHb', null],
      ['4Q7Xy1Lm3pz9vHc', null],
      [null, 'message-rate'],
      [null, 'message-rate'],
    ]);
    // two refused recipients with different senders: two relay tries
    const probe = o.sessions.find((x) => x.client === '203.0.113.9')!;
    expect(probe.transactions.map((t) => t.refusedRcpts.map((r) => [r.to, r.refusal]))).toEqual([
      [['relaytest@relay.outside.example', 'relay-denied']],
      [['relaytest%relay.outside.example@example.org', 'relay-denied']],
    ]);
  });

  it('counts connections where postscreen saw them, and a PASS NEW once, not twice', () => {
    const legit = byAddress.get('192.0.2.10')!;
    expect(legit.connections).toHaveLength(1);
    expect(byAddress.get('203.0.113.50')!.connections).toHaveLength(2);
  });
});

describe('classes', () => {
  it('names each client for what it did and what it was refused for', () => {
    const classes = Object.fromEntries([...byAddress].map(([a, r]) => [a, r.class]));
    expect(classes).toEqual({
      '192.0.2.10': 'legit',
      '192.0.2.11': 'legit',
      '203.0.113.50': 'early-talker', // postscreen PREGREET
      '192.0.2.99': 'early-talker', // smtpd: improper command pipelining after CONNECT
      '198.51.100.77': 'dnsbl-spammer',
      '203.0.113.9': 'relay-prober',
      '203.0.113.77': 'flood',
      '203.0.113.200': 'spammer', // it delivered, but 30 recipients a message
      '2001:db8:77:1::5': 'worm',
      '203.0.113.150': 'slowloris', // timeout after CONNECT
      '127.0.0.1': 'idle',
    });
    expect(byAddress.get('203.0.113.77')).toMatchObject({ peakConnections: 3, refusedConnections: { 'connection-limit': 2 } });
    expect(byAddress.get('203.0.113.50')!.said).toBe('EHLO bot.example');
  });

  it('finds the most sessions open at once; one that starts as another ends does not overlap it', () => {
    expect(peakOverlap([{ start: 0, end: 10 }, { start: 5, end: 20 }, { start: 10, end: 30 }, { start: 12, end: 12 }])).toBe(3);
    expect(peakOverlap([{ start: 0, end: 1 }, { start: 1, end: 2 }, { start: 2, end: null }])).toBe(1);
  });

  it("reads a refusal's reason from Postfix's and Haraka's words", () => {
    expect(refusalOf('554 5.7.1 <x@y>: Relay access denied')).toBe('relay-denied');
    expect(refusalOf('Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org')).toBe('dnsbl');
    expect(refusalOf('Too many concurrent connections')).toBe('connection-limit');
    expect(refusalOf('connection rate limit exceeded')).toBe('connection-rate');
    expect(refusalOf('Too many recipient attempts')).toBe('too-many-recipients');
    expect(refusalOf('recipient rate limit exceeded')).toBe('recipient-rate');
    expect(refusalOf('450 4.7.1 Error: too much mail from 192.0.2.1')).toBe('message-rate');
    expect(refusalOf('You talk too soon')).toBe('pregreet');
    expect(refusalOf('I cannot deliver mail for <x@outside>')).toBe('relay-denied');
    expect(refusalOf('5.7.1 message content rejected')).toBe('content');
    expect(refusalOf('attachment invoice.pdf.exe refused')).toBe('worm');
    expect(refusalOf('something else')).toBe('other');
  });
});

describe('timestamps', () => {
  it("reads syslog's, postlogd's and RFC 3339 stamps, with fractions and offsets", () => {
    const c = new LogClock();
    const a = c.read('Dec  1 10:00:00 mx postfix/smtpd[1]: x')!;
    expect(c.read('Dec 01 10:00:01.250 mx postfix/smtpd[1]: x')!.t - a.t).toBe(1250);
    const iso = new LogClock();
    const b = iso.read('2024-12-01T10:00:00.000000+01:00 mx postfix/smtpd[1]: x')!;
    expect(iso.read('2024-12-01T09:30:00Z mx postfix/smtpd[1]: x')!.t - b.t).toBe(30 * 60_000);
    expect(b).toMatchObject({ rest: 'mx postfix/smtpd[1]: x', fraction: true });
    expect(iso.offsetMs).toBe(3_600_000);
  });

  it('moves a year-less log on a year at New Year', () => {
    const c = new LogClock();
    const dec = c.read('Dec 31 23:59:59 mx postfix/smtpd[1]: x')!;
    expect(c.read('Jan  1 00:00:01 mx postfix/smtpd[1]: x')!.t - dec.t).toBe(2000);
  });
});
