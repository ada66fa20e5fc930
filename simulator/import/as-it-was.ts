// The proxy config "as it was": the limits the log shows its server enforcing, in the
// run's time, so a run of the imported scenario refuses what the real server refused,
// and a sweep starts from there. A limit the log never shows firing keeps attitude's
// default, raised to what the log's clients did when they did more (it did not fire:
// it was higher, or there was none). Every key says in a comment where it came from.
import { Document, isScalar } from 'yaml';
import { formatDuration, formatRate, type Rate } from '../../proxy/config/units.ts';
import { networkOf } from './addresses.ts';
import type { Replayed } from './actors.ts';
import type { LimitHints } from './observed.ts';
import type { Timeline } from './timeline.ts';

interface Keyed {
  path: string[];
  value: unknown;
  comment: string;
}

/** The most of `times` within any window of `windowMs`. */
export function peakInWindow(times: readonly number[], windowMs: number): number {
  const s = [...times].sort((a, b) => a - b);
  let peak = 0;
  let lo = 0;
  for (let hi = 0; hi < s.length; hi++) {
    while (s[hi] - s[lo] >= windowMs) lo++;
    peak = Math.max(peak, hi - lo + 1);
  }
  return peak;
}

/** `count` per `realWindowMs` of the log, as a rate of the run (which is `speedup` times faster). */
export function runRate(count: number, realWindowMs: number, speedup: number): string {
  if (Math.abs(speedup - 1) < 1e-9) return formatRate({ count, perMs: realWindowMs });
  const perMinute = (count * 60_000 * speedup) / realWindowMs;
  return `${perMinute >= 100 ? Math.round(perMinute) : Math.round(perMinute * 10) / 10}/1m`;
}

const DEFAULT_RATE_WINDOW = 60_000;

export interface AsItWasInput {
  records: Replayed[];
  hints: LimitHints;
  tl: Timeline;
  domains: string[];
  format: string;
  /** the zone the lab's mock DNS lists the DNSBL'd actors in */
  dnsblZone: string | null;
  earlyTalkersRefused: boolean;
}

export function asItWas(i: AsItWasInput): Keyed[] {
  const { records, hints, tl } = i;
  const unit = hints.rateUnitMs ?? DEFAULT_RATE_WINDOW;
  const unitNote = hints.rateUnitMs ? `anvil_rate_time_unit ${formatDuration(unit)}` : 'per minute (anvil_rate_time_unit\'s default)';
  const speed = tl.speedup;
  const keys: Keyed[] = [];
  const add = (path: string[], value: unknown, comment: string) => keys.push({ path, value, comment });
  keys.push({ path: ['relay', 'domains'], value: i.domains, comment: 'the domains the log delivered mail for' });

  const peakClients = Math.max(1, ...records.map((r) => r.peakConnections));
  if (hints.connectionLimit !== null) add(['connections', 'perClient'], hints.connectionLimit, `the log refused the ${hints.connectionLimit + 1}th connection of a client`);
  else add(['connections', 'perClient'], Math.max(10, peakClients), peakClients > 10 ? `never refused; a client held ${peakClients}` : 'never refused: the default');

  const byNet = new Map<string, Replayed[]>();
  for (const r of records) byNet.set(networkOf(r.address), [...(byNet.get(networkOf(r.address)) ?? []), r]);
  const netPeak = Math.max(1, ...[...byNet.values()].map((rs) => rs.reduce((s, r) => s + r.peakConnections, 0)));
  add(['connections', 'perNetwork'], Math.max(50, netPeak), netPeak > 50 ? `a network held up to ${netPeak}` : 'the default');

  const rateKey = (path: string[], observed: number | null, what: string, times: (r: Replayed) => number[], fallback: Rate) => {
    if (observed !== null) {
      add(path, runRate(observed, unit, speed), `the log refused the ${observed + 1}th ${what} ${unitNote}${speed === 1 ? '' : `, in the run's time (${Math.round(speed * 10) / 10}x)`}`);
      return;
    }
    const peak = Math.max(0, ...records.map((r) => peakInWindow(times(r), (fallback.perMs * speed))));
    const count = Math.max(fallback.count, peak + 1);
    add(path, formatRate({ count, perMs: fallback.perMs }), count > fallback.count ? `never refused; a client made ${peak} in ${formatDuration(fallback.perMs)} of the run` : 'never refused: the default');
  };
  rateKey(['connections', 'rate'], hints.connectionRate, 'connection', (r) => r.connections, { count: 60, perMs: 60_000 });
  rateKey(['messages', 'rate'], hints.messageRate, 'message', (r) => r.transactions.map((t) => t.t), { count: 100, perMs: 60_000 });
  rateKey(['messages', 'recipientRate'], hints.recipientRate, 'recipient', (r) => r.messages.flatMap((m) => Array<number>(m.recipients ?? 1).fill(m.t)), { count: 1000, perMs: 60_000 });

  const most = Math.max(0, ...records.flatMap((r) => r.messages.map((m) => m.recipients ?? 0)));
  add(['messages', 'maxRecipients'], Math.max(100, most), most > 100 ? `a message had ${most}` : 'the default');
  const biggest = Math.max(0, ...records.flatMap((r) => r.messages.map((m) => m.size ?? 0)));
  if (biggest > 10 * 1024 * 1024) add(['messages', 'maxSize'], Math.ceil(biggest / 1024 / 1024) + 'MB', 'the biggest message of the log');
  add(['connections', 'greetPause'], i.earlyTalkersRefused ? '300ms' : '0s', i.earlyTalkersRefused ? `the log refused clients that talked first (${i.format}'s pregreet test)` : 'nobody was refused for talking first');
  const contentRefused = records.some((r) => (r.refusals.content ?? 0) + (r.refusals.worm ?? 0) > 0);
  if (!contentRefused) add(['filters', 'spam'], { rejectScore: 1000 }, 'the log refused no message for its content: spam scores only tag (GTUBE still refused)');
  if (i.dnsblZone) {
    add(['reputation', 'dnsbl'], [{ zone: i.dnsblZone, weight: 3 }], `the lab's zone for ${hints.dnsblZones.length ? hints.dnsblZones.join(', ') : 'the DNSBL the log refused with'}`);
    add(['reputation', 'threshold'], 3, 'one listing refuses, as it did');
  }
  return keys;
}

export function asItWasYaml(keys: Keyed[], header: string[]): string {
  const data: Record<string, Record<string, unknown>> = {};
  for (const k of keys) (data[k.path[0]] ??= {})[k.path[1]] = k.value;
  const doc = new Document(data, { aliasDuplicateObjects: false });
  for (const k of keys) {
    const node = doc.getIn(k.path, true);
    if (isScalar(node)) node.comment = ` ${k.comment}`;
    else {
      const pair = doc.getIn([k.path[0]], true) as { items?: Array<{ key: { value?: string; commentBefore?: string } }> };
      const item = pair.items?.find((p) => p.key.value === k.path[1]);
      if (item) item.key.commentBefore = ` ${k.comment}`;
    }
  }
  doc.commentBefore = header.map((l) => ` ${l}`).join('\n');
  return doc.toString({ lineWidth: 0, flowCollectionPadding: true });
}
