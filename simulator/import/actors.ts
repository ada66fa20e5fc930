// The actors of an imported scenario: the clients of one class, grouped by how busy
// each was (a power of two of its attempts), so that a client that sent 40 messages
// does not become 40 clients sending one each: per-client limits meet the rates of the
// log. Each actor keeps its clients' mapped addresses and the timeline of its attempts.
import { RELAY_TRICKS, type ActorKind, type RelayTrick } from '../scenario/schema.ts';
import type { ClientClass, ClientRecord } from './classify.ts';
import { arrivalsOf } from './counts.ts';
import { histogram, toRun, toRunSpan, type Timeline } from './timeline.ts';
import { formatDuration, formatSize } from '../../proxy/config/units.ts';

export const KIND_OF: Record<Exclude<ClientClass, 'idle'>, ActorKind> = {
  legit: 'legit',
  spammer: 'spammer',
  'dnsbl-spammer': 'spammer',
  worm: 'worm',
  flood: 'flood',
  slowloris: 'slowloris',
  'early-talker': 'early-talker',
  'relay-prober': 'relay-prober',
  smuggler: 'smuggler',
};

export type Replayed = ClientRecord & { class: Exclude<ClientClass, 'idle'>; kind: ActorKind; mapped: string };

export interface ImportedActor {
  cls: Exclude<ClientClass, 'idle'>;
  spec: Record<string, unknown>;
  clients: Replayed[];
}

export interface ActorContext {
  tl: Timeline;
  /** the domains the log's mail was for */
  domains: string[];
}

const median = (xs: number[]) => {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
};
const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** A range from observations: min..max, log-uniform when it spans more than ten times. */
function range(values: number[], fallback: string, unit: (n: number) => string | number = (n) => n): unknown {
  const vs = values.filter((v) => Number.isFinite(v) && v > 0);
  if (!vs.length) return fallback;
  const lo = Math.min(...vs);
  const hi = Math.max(...vs);
  if (lo === hi) return unit(lo);
  if (hi / lo > 10) return { min: unit(lo), max: unit(hi), dist: 'log-uniform' };
  return `${unit(lo)}..${unit(hi)}`;
}

const bytes = (n: number) => formatSize(Math.max(1, Math.round(n)));

/** The relay trick a refused recipient looks like (nmap's, which the prober replays). */
export function trickOf(from: string, to: string, served: string[]): RelayTrick {
  const inServed = (d: string) => served.includes(d.toLowerCase());
  const domain = to.split('@').pop() ?? '';
  if (to.startsWith('"')) return to.includes('%') ? 'quoted-percent' : to.endsWith(']') ? 'quoted-at-ip' : 'quoted';
  if (to.startsWith('@')) return to.includes('[') ? 'source-route-ip' : 'source-route';
  if (to.includes('!')) return to.endsWith(']') ? 'bang-path-ip' : to.includes('@') && inServed(domain) ? 'bang-path-served' : 'bang-path';
  if (to.includes('%')) return to.endsWith(']') ? 'percent-hack-ip' : 'percent-hack';
  if ((to.match(/@/g) ?? []).length > 1) return to.endsWith(']') ? 'double-at-ip' : 'double-at';
  if (from === '') return 'null-sender';
  if (from.endsWith(']')) return 'ip-literal-sender';
  return inServed(from.split('@').pop() ?? '') ? 'served-sender' : 'outside-sender';
}

function tierOf(r: Replayed): number {
  return Math.floor(Math.log2(Math.max(1, arrivalsOf(r, r.kind).length)));
}

/** One actor per class and tier, by class name, then busiest last. */
export function buildActors(records: Replayed[], ctx: ActorContext): ImportedActor[] {
  const groups = new Map<string, Replayed[]>();
  for (const r of records) {
    const key = `${r.class}\u0000${String(tierOf(r)).padStart(3, '0')}`;
    const group = groups.get(key);
    if (group) group.push(r);
    else groups.set(key, [r]);
  }
  const keys = [...groups.keys()].sort();
  const perClass = new Map<string, number>();
  for (const k of keys) perClass.set(k.split('\u0000')[0], (perClass.get(k.split('\u0000')[0]) ?? 0) + 1);
  const seen = new Map<string, number>();
  return keys.map((key) => {
    const cls = key.split('\u0000')[0] as ImportedActor['cls'];
    const n = (seen.get(cls) ?? 0) + 1;
    seen.set(cls, n);
    const name = perClass.get(cls)! > 1 ? `${cls}-${n}` : cls;
    const clients = groups.get(key)!;
    return { cls, clients, spec: actorSpec(name, cls, clients, ctx) };
  });
}

function actorSpec(name: string, cls: ImportedActor['cls'], clients: Replayed[], ctx: ActorContext): Record<string, unknown> {
  const kind = KIND_OF[cls];
  const { tl } = ctx;
  const addresses = clients.map((c) => c.mapped);
  const arrivals = clients.flatMap((c) => arrivalsOf(c, kind)).sort((a, b) => a - b);
  const each = Math.round(arrivals.length / clients.length);
  const sessions = clients.flatMap((c) => c.sessions.filter((s) => s.via !== 'postscreen'));
  const perSession = sessions.map((s) => s.transactions.length).filter((n) => n > 0);
  const base = { name, kind, description: `${clients.length} address${clients.length === 1 ? '' : 'es'} of the log, about ${each} ${kind === 'legit' || kind === 'spammer' || kind === 'worm' ? 'message' : kind === 'relay-prober' ? 'relay tr' : 'connection'}${kind === 'relay-prober' ? (each === 1 ? 'y' : 'ies') : each === 1 ? '' : 's'} each`, addresses };
  const h = histogram(tl, arrivals);
  // each client makes as many of the arrivals as it did in the log (per-client limits meet the same counts)
  const shares = clients.length > 1 ? { shares: clients.map((c) => arrivalsOf(c, kind).length) } : {};
  const timed = h ? { start: formatDuration(h.startMs), arrival: { type: 'histogram', bucket: formatDuration(tl.bucketMs), counts: h.counts }, ...shares } : {};
  const peak = Math.max(1, ...clients.map((c) => c.peakConnections));
  switch (kind) {
    case 'legit':
    case 'spammer':
    case 'worm': {
      const queued = clients.flatMap((c) => c.messages.filter((m) => m.received));
      // recipients a message: those a queued message had, or for a refused one those it tried
      const tried = sessions.filter((s) => s.rcpt && s.mail && s.mail.tried - s.mail.failed > 0).map((s) => s.rcpt!.tried / (s.mail!.tried - s.mail!.failed));
      const recipients = kind === 'legit' ? queued.map((m) => m.recipients ?? 1) : tried.length ? tried.map((n) => Math.max(1, Math.round(n))) : queued.map((m) => m.recipients ?? 1);
      return {
        ...base,
        ...timed,
        recipients: range(recipients, kind === 'legit' ? '1..3' : '20..50'),
        size: range(queued.map((m) => m.size ?? 0), kind === 'legit' ? '2KB..20KB' : '1KB..4KB', bytes),
        domains: ctx.domains,
        connections: clamp(peak, 1, kind === 'legit' ? 10 : 50),
        reuse: clamp(Math.max(1, ...perSession), 1, 1000),
        ...(kind === 'legit' ? { retry: { after: '1s', max: 5 } } : {}),
      };
    }
    case 'flood':
    case 'slowloris': {
      const times = clients.flatMap((c) => c.connections);
      const first = Math.min(...times);
      const last = Math.max(...times);
      // a connection postscreen passed waited there first (its greet test): that is part of the hold
      const wait = median(clients.flatMap((c) => c.sessions.filter((s) => s.via === 'postscreen' && !s.refused && s.end !== null).map((s) => s.end! - s.start)));
      const holds = clients.flatMap((c) => c.sessions.filter((s) => !s.refused && s.via !== 'postscreen' && s.end !== null).map((s) => s.end! - s.start + wait));
      const startMs = toRun(tl, first);
      // the longest hold is a connection's whole hold: one accepted late holds only until its slot's hold ends
      const longest = [...holds].sort((a, b) => a - b)[Math.floor((holds.length - 1) * 0.9)] ?? 0;
      const hold = clamp(toRunSpan(tl, Math.max(longest, tl.resolutionMs)), 200, Math.max(200, tl.durationMs - startMs));
      // A client keeps `connections` slots busy: each is tried, tried again every `reconnect`
      // while refused, and once accepted held until its hold ends. So each slot is accepted
      // at most once: the accepted tries count the slots (one more than it held, if any try
      // was refused), and the tries beyond them tell how often a refused one came back.
      const tries = median(clients.map((c) => c.connections.length));
      const refused = median(clients.map((c) => Object.values(c.refusedConnections).reduce((a, n) => a + (n ?? 0), 0)));
      const held = median(clients.map((c) => c.peakConnections));
      const slots = Math.max(held + (refused > 0 ? 1 : 0), tries - refused, 1);
      const again = slots > held && tries > slots ? 1 + (tries - slots) / (slots - held) : 1;
      const reconnect = again > 1 ? clamp(Math.round(hold / again), 50, hold) : Math.min(1000, hold);
      return {
        ...base,
        start: formatDuration(startMs),
        // the last connection of the log is held as long as the others
        stop: formatDuration(Math.min(tl.durationMs, Math.max(toRun(tl, last) + tl.bucketMs, startMs + hold))),
        connections: clamp(slots, 1, 2000),
        hold: formatDuration(hold),
        reconnect: formatDuration(reconnect),
        rampUp: formatDuration(clamp(Math.round(tl.bucketMs / 2), 50, 1000)),
      };
    }
    case 'early-talker': {
      const said = clients.find((c) => c.said)?.said;
      return { ...base, ...timed, ...(said ? { say: said } : {}) };
    }
    case 'relay-prober': {
      const rcpts = clients.flatMap((c) => c.transactions.flatMap((t) => t.refusedRcpts));
      const tricks: RelayTrick[] = [];
      for (const r of rcpts) {
        const t = trickOf(r.from, r.to, ctx.domains);
        if (!tricks.includes(t)) tricks.push(t);
      }
      const want = Math.max(1, median(perSession));
      for (const t of RELAY_TRICKS) if (tricks.length < want && !tricks.includes(t)) tricks.push(t);
      const outside = rcpts.map((r) => r.to.replace(/^"|"$/g, '').split(/[@!%]/).find((p, i, all) => i > 0 && !ctx.domains.includes(p.toLowerCase()) && !p.startsWith('[') && p.includes('.')) ?? (r.to.includes('!') ? r.to.split('!')[0] : undefined)).find(Boolean);
      // each arrival is one session trying every trick; the attempts of the log are tries
      const sessionsOf = clients.flatMap((c) => c.connections).sort((a, b) => a - b);
      const hs = histogram(tl, sessionsOf);
      return {
        ...base,
        ...(hs ? { start: formatDuration(hs.startMs), arrival: { type: 'histogram', bucket: formatDuration(tl.bucketMs), counts: hs.counts }, ...(clients.length > 1 ? { shares: clients.map((c) => c.connections.length) } : {}) } : {}),
        tricks: tricks.slice(0, Math.max(want, 1)),
        domain: ctx.domains[0],
        ...(outside ? { outside } : {}),
      };
    }
    case 'smuggler':
      return { ...base, ...timed, domain: ctx.domains[0] };
    default:
      return { ...base, ...timed };
  }
}
