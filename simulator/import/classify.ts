// Who each client address was, from what it did and what the server refused it for:
// an address that delivered mail is a legitimate sender unless it sent in bulk (many
// recipients a message, or mostly refused); the others are attackers of the kind their
// refusals name (talked before the banner: early-talker; relay denied: relay-prober;
// listed by a DNSBL: a spammer the lab's blocklist lists; held connections against the
// limit: flood; ...). Addresses that only connected and left are "idle" and not replayed.
import type { Observation, QueuedMessage, Refusal, Session, Transaction } from './observed.ts';

export const CLASSES = ['legit', 'spammer', 'dnsbl-spammer', 'worm', 'flood', 'slowloris', 'early-talker', 'relay-prober', 'smuggler', 'idle'] as const;
export type ClientClass = (typeof CLASSES)[number];

export interface ClientRecord {
  address: string;
  class: ClientClass;
  /** why it is in its class, for the lesson and the map */
  because: string;
  /** the connections it made (postscreen's when postscreen logged them: it sees every one) */
  connections: number[];
  /** connections refused as connections (limits, pregreet, DNSBL), by reason */
  refusedConnections: Partial<Record<Refusal, number>>;
  sessions: Session[];
  transactions: Transaction[];
  /** messages queued whole from it */
  messages: QueuedMessage[];
  refusals: Partial<Record<Refusal, number>>;
  /** the most connections it held at once */
  peakConnections: number;
  said: string | null;
}

const sum = (r: Partial<Record<Refusal, number>>, ...keys: Refusal[]) => keys.reduce((s, k) => s + (r[k] ?? 0), 0);

/** The most sessions open at once (a session that starts as another ends does not overlap it). */
export function peakOverlap(sessions: Array<{ start: number; end: number | null }>): number {
  const starts = sessions.map((s) => s.start).sort((a, b) => a - b);
  const ends = sessions
    .filter((s) => (s.end ?? s.start) > s.start)
    .map((s) => s.end!)
    .sort((a, b) => a - b);
  let peak = 0;
  let open = 0;
  let e = 0;
  for (const s of starts) {
    while (e < ends.length && ends[e] <= s) {
      e++;
      open--;
    }
    open++;
    peak = Math.max(peak, open);
  }
  return peak;
}

function classOf(r: Omit<ClientRecord, 'class' | 'because'>): [ClientClass, string] {
  const refused = r.refusals;
  const delivered = r.messages.filter((m) => m.received && m.refusal === null).length;
  const tried = r.transactions.length;
  if (r.said) return ['early-talker', 'talked before the banner'];
  if (sum(refused, 'relay-denied') > 0) return ['relay-prober', `relay denied ${sum(refused, 'relay-denied')} times`];
  if (sum(refused, 'dnsbl') > 0) return ['dnsbl-spammer', 'listed by a DNSBL'];
  if (sum(refused, 'bare-newline') > 0) return ['smuggler', 'bare newlines in its mail'];
  if (sum(refused, 'worm') > 0) return ['worm', 'executable attachments refused'];
  const recipients = r.sessions.reduce((s, x) => s + (x.rcpt?.tried ?? 0), 0);
  const reached = r.sessions.reduce((s, x) => s + Math.max(0, (x.mail?.tried ?? 0) - (x.mail?.failed ?? 0)), 0);
  const perMessage = reached ? recipients / reached : 0;
  // transactions refused by a limit or a policy (an unknown user or greylisting happens to real senders too)
  const refusedTx = r.transactions.filter((t) => t.queueId === null && (t.mailRefusal ?? t.refusedRcpts[0]?.refusal ?? 'recipient-unknown') !== 'recipient-unknown' && (t.mailRefusal ?? t.refusedRcpts[0]?.refusal) !== 'greylisted').length;
  if (delivered > 0) {
    if (perMessage >= 10) return ['spammer', `about ${Math.round(perMessage)} recipients a message`];
    if (refusedTx >= 0.5 * tried && refusedTx >= 2) return ['spammer', `${refusedTx} of ${tried} transactions refused by limits`];
    if (sum(refused, 'content') > delivered) return ['spammer', 'mostly refused as spam'];
    return ['legit', `delivered ${delivered} message${delivered === 1 ? '' : 's'}`];
  }
  if (tried > 0) {
    if (sum(refused, 'content') > 0) return ['spammer', 'refused as spam'];
    return ['spammer', `sent ${tried} transaction${tried === 1 ? '' : 's'}, none delivered`];
  }
  const timeouts = r.sessions.filter((s) => s.timedOut).length;
  if (timeouts > 0) return ['slowloris', `${timeouts} connection${timeouts === 1 ? '' : 's'} timed out idle`];
  if (sum(r.refusedConnections, 'connection-limit', 'connection-rate') > 0 || r.peakConnections > 2) return ['flood', `held up to ${r.peakConnections} connections, ${sum(r.refusedConnections, 'connection-limit', 'connection-rate')} refused`];
  return ['idle', 'only connected'];
}

/** Every client address of the log with its class, in order of first appearance. */
export function classify(o: Observation): ClientRecord[] {
  const viaPostscreen = new Set(o.sessions.filter((s) => s.via === 'postscreen').map((s) => s.client));
  const byClient = new Map<string, Session[]>();
  for (const s of o.sessions) {
    const list = byClient.get(s.client) ?? [];
    list.push(s);
    byClient.set(s.client, list);
  }
  const messagesOf = new Map<string, QueuedMessage[]>();
  for (const m of o.messages) messagesOf.set(m.client, [...(messagesOf.get(m.client) ?? []), m]);
  const out: ClientRecord[] = [];
  for (const [address, sessions] of byClient) {
    // with postscreen in front, its sessions are the connections; smtpd's carry the mail
    const counted = viaPostscreen.has(address) ? sessions.filter((s) => s.via === 'postscreen') : sessions;
    const refusedConnections: Partial<Record<Refusal, number>> = {};
    const refusals: Partial<Record<Refusal, number>> = {};
    for (const s of sessions) {
      if (s.refused) {
        refusals[s.refused] = (refusals[s.refused] ?? 0) + 1;
        // a session has one refusal at most, and a postscreen session refused has no smtpd one after it
        refusedConnections[s.refused] = (refusedConnections[s.refused] ?? 0) + 1;
      }
    }
    const transactions = sessions.flatMap((s) => s.transactions).sort((a, b) => a.t - b.t);
    for (const t of transactions) {
      if (t.mailRefusal) refusals[t.mailRefusal] = (refusals[t.mailRefusal] ?? 0) + 1;
      for (const r of t.refusedRcpts) refusals[r.refusal] = (refusals[r.refusal] ?? 0) + 1;
    }
    const messages = messagesOf.get(address) ?? [];
    for (const m of messages) if (m.refusal) refusals[m.refusal] = (refusals[m.refusal] ?? 0) + 1;
    const held = sessions.filter((s) => s.via !== 'postscreen' && !s.refused);
    const anvil = o.hints.peaks.get(address)?.connections ?? 0;
    const base = {
      address,
      connections: counted.map((s) => s.start),
      refusedConnections,
      sessions,
      transactions,
      messages,
      refusals,
      peakConnections: Math.max(peakOverlap(held), anvil),
      said: sessions.find((s) => s.said)?.said ?? null,
    };
    const [cls, because] = classOf(base);
    out.push({ ...base, class: cls, because });
  }
  return out;
}
