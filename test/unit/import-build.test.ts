// From an observation to a scenario: the address map (one lab /24 per real network,
// stable), the time compression, the actors (classes, tiers, shares, the flood's
// reconnects), the thresholds "as it was" and the proxy config as it was; the result
// is a scenario and a config that `attitude run` reads.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseProxyConfig } from '../../proxy/config/load.ts';
import { mapAddresses, networkOf } from '../../simulator/import/addresses.ts';
import { trickOf } from '../../simulator/import/actors.ts';
import { asItWasYaml, peakInWindow, runRate } from '../../simulator/import/as-it-was.ts';
import { buildImport } from '../../simulator/import/build.ts';
import { readPostfixLog } from '../../simulator/import/postfix.ts';
import { bucketOf, histogram, timeline, toRun, toRunSpan } from '../../simulator/import/timeline.ts';
import { scenarioYaml } from '../../simulator/import/write.ts';
import { buildPlan, type MailerPlan } from '../../simulator/plan.ts';
import { parseScenario } from '../../simulator/scenario/parse.ts';

const FIXTURE = readFileSync(path.join(import.meta.dirname, '../fixtures/postfix-maillog.txt'), 'utf8');
const imported = buildImport(readPostfixLog(FIXTURE), { name: 'fixture', source: 'maillog', proxyFile: 'fixture.proxy.yaml', scenarioFile: 'fixture.yaml' });
const actor = (name: string) => (imported.scenario.actors as Array<Record<string, unknown>>).find((a) => a.name === name)!;

describe('the address map', () => {
  const map = mapAddresses(['203.0.113.9', '203.0.113.77', '192.0.2.10', '192.0.2.99', '2001:db8:77:1::5', '2001:db8:77:2::9', '2001:db8:78::1', '::ffff:198.51.100.7']);

  it('gives each real network one lab /24, and keeps the last octet', () => {
    const a = map.address;
    const net24 = (x: string) => x.split('.').slice(0, 3).join('.');
    expect(net24(a.get('203.0.113.9')!)).toBe(net24(a.get('203.0.113.77')!));
    expect(net24(a.get('203.0.113.9')!)).not.toBe(net24(a.get('192.0.2.10')!));
    expect(a.get('203.0.113.77')!.split('.')[3]).toBe('77');
    // IPv6: one lab /24 per /48; a v4-mapped address is its IPv4 one
    expect(net24(a.get('2001:db8:77:1::5')!)).toBe(net24(a.get('2001:db8:77:2::9')!));
    expect(net24(a.get('2001:db8:77:1::5')!)).not.toBe(net24(a.get('2001:db8:78::1')!));
    expect(networkOf('::ffff:198.51.100.7')).toBe('198.51.100.0/24');
    for (const lab of a.values()) expect(lab).toMatch(/^127\.(\d+)\.\d+\.\d+$/);
    expect(new Set(a.values()).size).toBe(a.size);
  });

  it('is stable: a network lands where it did, whatever else the log has', () => {
    const alone = mapAddresses(['203.0.113.9']);
    expect(alone.address.get('203.0.113.9')).toBe(map.address.get('203.0.113.9'));
    expect(mapAddresses(['192.0.2.10', '203.0.113.9']).network).toEqual(mapAddresses(['203.0.113.9', '192.0.2.10']).network);
  });
});

describe('the timeline', () => {
  it('maps the span onto the duration and counts arrivals per bucket', () => {
    // an hour of a log with whole-second stamps into 30 s
    const tl = timeline(0, 3_600_000 - 1000, 1000, 30_000);
    expect(tl).toMatchObject({ durationMs: 30_000, buckets: 120, bucketMs: 250, speedup: 120 });
    expect(toRun(tl, 0)).toBe(0);
    expect(toRun(tl, 1_800_000)).toBe(15_000);
    expect(toRun(tl, 3_599_000)).toBeLessThan(30_000);
    expect(toRunSpan(tl, 60_000)).toBe(500);
    expect(bucketOf(tl, 3_599_999)).toBe(119);
    expect(histogram(tl, [600_000, 610_000, 1_200_000])).toEqual({ startMs: 20 * 250, counts: [2, ...Array(19).fill(0), 1] });
  });

  it('replays a short log in real time, to the second', () => {
    expect(timeline(0, 4000, 1000, null)).toMatchObject({ durationMs: 5000, buckets: 5, bucketMs: 1000, speedup: 1 });
    // without --duration at most a minute
    expect(timeline(0, 3_600_000, 1000, null).durationMs).toBeLessThanOrEqual(60_000);
  });
});

describe('the imported scenario', () => {
  it('is a scenario attitude reads, and its plan replays the counts of the log exactly', () => {
    const text = scenarioYaml(imported, '/tmp/x/fixture.yaml');
    expect(text).toMatch(/^# yaml-language-server: \$schema=/);
    const s = parseScenario(parseYaml(text), '/tmp/x/fixture.yaml');
    const plan = buildPlan(s);
    const planned = (kind: string) => plan.actors.filter((a) => a.kind === kind).reduce((n, a) => n + ('messages' in a ? a.messages.length : 'probes' in a ? a.probes.length * a.spec.tricks.length : 'connections' in a && a.kind === 'early-talker' ? a.connections.length : 0), 0);
    expect(planned('legit')).toBe(imported.counts.legit!.attempts);
    expect(planned('spammer')).toBe(imported.counts.spammer!.attempts);
    expect(planned('worm')).toBe(1);
    expect(planned('early-talker')).toBe(imported.counts['early-talker']!.attempts);
    expect(planned('relay-prober')).toBe(imported.counts['relay-prober']!.attempts);
    // no real address in the file
    expect(text).not.toMatch(/203\.0\.113|192\.0\.2\.|198\.51\.100|2001:db8/);
  });

  it('groups clients per class and keeps what each client did', () => {
    expect(actor('legit')).toMatchObject({ kind: 'legit', shares: [1, 1], recipients: '1..2', domains: ['example.org', 'example.net'] });
    expect(actor('spammer')).toMatchObject({ kind: 'spammer', recipients: 30, reuse: 4 });
    expect(actor('dnsbl-spammer')).toMatchObject({ kind: 'spammer' });
    expect(imported.scenario.dns).toEqual({ dnsbl: [{ zone: 'bl.attitude.test', listed: ['dnsbl-spammer'], answer: '127.0.0.2' }] });
    expect(actor('relay-prober')).toMatchObject({ tricks: ['outside-sender', 'percent-hack'], domain: 'example.org', outside: 'relay.outside.example' });
    expect(actor('early-talker-2')).toMatchObject({ say: 'EHLO bot.example' });
    // 3 held and 2 refused tries over the hold: one more connection, tried again once
    const flood = actor('flood');
    expect(flood).toMatchObject({ connections: 4 });
    expect(Math.ceil(Number(String(flood.hold).replace('ms', '')) / Number(String(flood.reconnect).replace('ms', '')))).toBe(2);
    expect(imported.map.find((r) => r.real === '127.0.0.1')).toMatchObject({ class: 'idle', mapped: '' });
  });

  it('gives each client of an actor its own count (shares), in a seeded order', () => {
    const s = parseScenario({
      name: 'shares',
      duration: '2s',
      backends: [{ name: 'mx1' }],
      actors: [{ name: 'a', kind: 'legit', addresses: ['127.30.0.1', '127.30.0.2', '127.30.0.3'], shares: [5, 1, 0], arrival: { type: 'histogram', bucket: '1s', counts: [3, 3] } }],
    });
    const per = [0, 0, 0];
    for (const m of (buildPlan(s).actors[0] as MailerPlan).messages) per[m.client]++;
    expect(per).toEqual([5, 1, 0]);
    expect(() => parseScenario({ name: 'x', duration: '1s', backends: [{ name: 'mx1' }], actors: [{ name: 'a', kind: 'legit', rate: '1/s', clients: 2, shares: [1] }] })).toThrow(/actors\[0\]\.shares: expected one share per client \(2\), got 1/);
  });

  it('says "no worse than it was" in its thresholds', () => {
    expect(imported.scenario.expect).toEqual({
      'delivered_ratio{kind:legit}': ['>= 1'],
      'latency{kind:legit}': ['p(95) < 2000'],
      'accepted_ratio{kind:spammer}': ['<= 0.2'],
      'accepted_ratio{kind:worm}': ['<= 0'],
      'connections_greeted_ratio{kind:flood}': ['<= 0.6'],
      'connections_greeted_ratio{kind:slowloris}': ['<= 1'],
      'connections_greeted_ratio{kind:early-talker}': ['<= 0'],
      'relay_accepted{kind:relay-prober}': ['<= 0'],
      lost: ['== 0'],
    });
    expect(imported.scenario.lesson).toMatch(/Imported from maillog \(Postfix\): Dec 01 10:00:02 to Dec 01 10:03:30/);
    expect(imported.scenario.lesson).toMatch(/- flood: 1 address in 1 network, 5 connections, 3 greeted; 2 connections refused; refusals: connection-limit 2\./);
    expect(imported.scenario.lesson).toMatch(/attitude sweep fixture\.yaml --vary connections\.perClient=1,3,6 --vary messages\.rate=/);
  });

  it('comes with the proxy config as it was: the limits the log shows, in the run\'s time', () => {
    const config = parseProxyConfig(parseYaml(asItWasYaml(imported.proxyKeys, ['header'])), 'as-it-was', { use: 'run' });
    expect(config.connections.perClient).toBe(3);
    expect(config.relay.domains).toEqual(['example.org', 'example.net']);
    expect(config.connections.greetPause).toBe(300);
    expect(config.reputation.dnsbl).toEqual([{ zone: 'bl.attitude.test', weight: 3 }]);
    // 30 a minute in the log, 3.5 times faster in the run
    expect(config.messages.rate!.count / config.messages.rate!.perMs).toBeCloseTo((30 / 60_000) * imported.tl.speedup, 4);
    expect(runRate(6, 60_000, 1)).toBe('6/1m');
    expect(runRate(6, 60_000, 10)).toBe('60/1m');
    expect(peakInWindow([0, 10, 20, 1000, 1005], 100)).toBe(3);
  });

  it('recognises nmap\'s relay tricks in the refused recipients', () => {
    const served = ['example.org'];
    expect(trickOf('antispam@outside.example', 'relaytest@outside.example', served)).toBe('outside-sender');
    expect(trickOf('', 'relaytest@outside.example', served)).toBe('null-sender');
    expect(trickOf('antispam@[192.0.2.1]', 'relaytest%outside.example@example.org', served)).toBe('percent-hack');
    expect(trickOf('antispam@[192.0.2.1]', 'relaytest%outside.example@[192.0.2.1]', served)).toBe('percent-hack-ip');
    expect(trickOf('antispam@[192.0.2.1]', 'outside.example!relaytest', served)).toBe('bang-path');
    expect(trickOf('antispam@[192.0.2.1]', 'outside.example!relaytest@example.org', served)).toBe('bang-path-served');
    expect(trickOf('antispam@[192.0.2.1]', '@example.org:relaytest@outside.example', served)).toBe('source-route');
    expect(trickOf('antispam@[192.0.2.1]', '"relaytest@outside.example"', served)).toBe('quoted');
    expect(trickOf('antispam@[192.0.2.1]', 'relaytest@outside.example', served)).toBe('ip-literal-sender');
  });
});
