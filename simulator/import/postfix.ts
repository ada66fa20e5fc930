// Postfix's log (syslog, or maillog_file through postlogd): smtpd sessions keyed by
// process (one client at a time each), postscreen's by the client's address and port,
// anvil's refusals and statistics, and a message followed from smtpd's `client=`
// through cleanup's message-id and qmgr's size to each recipient's `status=` by its
// queue id.
import { LogClock } from './log-time.ts';
import { ObservationBuilder, type Observation, type Refusal } from './observed.ts';
import { refusalOf } from './refusals.ts';

// `host postfix/smtpd[123]: text`, also `postfix-in/smtpd` and `postfix/submission/smtpd`
const PROGRAM = /^\S+ (postfix[^/\s]*(?:\/[^\s[/]+)*?)\/([a-z-]+)\[(\d+)\]: (.*)$/;
const CLIENT = /([^\s[]*)\[([0-9A-Fa-f.:]+)\](?::(\d+))?/;
const QID = '([0-9A-F]{6,}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,})';
const QUEUE_LINE = new RegExp(`^${QID}: (.*)$`);

const Via = { smtpd: 'smtpd', postscreen: 'postscreen' } as const;
type Via = (typeof Via)[keyof typeof Via];

function unescape(text: string): string {
  return text.replace(/\\r\\n$/, '').replace(/\\r|\\n/g, '');
}

/** `mail=1/5` -> { tried: 5, failed: 4 }; `rcpt=21` -> { tried: 21, failed: 0 } */
function counter(text: string, name: string): { tried: number; failed: number } | undefined {
  const m = new RegExp(`\\b${name}=(\\d+)(?:/(\\d+))?`).exec(text);
  if (!m) return undefined;
  const ok = Number(m[1]);
  const tried = m[2] === undefined ? ok : Number(m[2]);
  return { tried, failed: tried - ok };
}

const field = (text: string, name: string) => new RegExp(`\\b${name}=<([^>]*)>`).exec(text)?.[1] ?? null;

export function readPostfixLog(text: string): Observation {
  const clock = new LogClock();
  const b = new ObservationBuilder('postfix');
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue;
    b.lines++;
    const stamp = clock.read(line);
    if (!stamp) continue;
    b.seen(stamp.t, stamp.fraction);
    const p = PROGRAM.exec(stamp.rest);
    if (!p || !readLine(b, stamp.t, p[2], `${p[1]}/${p[2]}[${p[3]}]`, p[4])) b.skipped++;
  }
  b.offsetMs = clock.offsetMs ?? 0;
  return b.finish();
}

function readLine(b: ObservationBuilder, t: number, program: string, proc: string, text: string): boolean {
  switch (program) {
    case 'smtpd':
      return smtpd(b, t, proc, text);
    case 'postscreen':
      return postscreen(b, t, text);
    case 'anvil':
      return anvil(b, text);
    case 'dnsblog': {
      const m = /listed by domain (\S+) as/.exec(text);
      if (m && !b.hints.dnsblZones.includes(m[1])) b.hints.dnsblZones.push(m[1]);
      return !!m;
    }
    case 'cleanup':
    case 'qmgr':
    case 'smtp':
    case 'lmtp':
    case 'relay':
    case 'virtual':
    case 'local':
    case 'error':
      return queueLine(b, t, program, text);
    default:
      return false;
  }
}

function smtpd(b: ObservationBuilder, t: number, proc: string, text: string): boolean {
  let m: RegExpExecArray | null;
  if ((m = /^connect from (\S+)$/.exec(text))) {
    const c = CLIENT.exec(m[1]);
    if (!c) return false;
    b.connect(proc, c[2], t, Via.smtpd);
    return true;
  }
  const client = CLIENT.exec(text)?.[2] ?? '';
  if ((m = /^disconnect from \S+(.*)$/.exec(text))) {
    b.close(proc, t, { mail: counter(m[1], 'mail') ?? { tried: 0, failed: 0 }, rcpt: counter(m[1], 'rcpt') ?? { tried: 0, failed: 0 } });
    return true;
  }
  if ((m = /^warning: (Connection concurrency|Connection rate|Message delivery request rate|Recipient address rate) limit exceeded: (\d+) from /.exec(text))) {
    const n = Number(m[2]) - 1;
    if (m[1] === 'Connection concurrency') {
      b.hints.connectionLimit = Math.min(b.hints.connectionLimit ?? n, n);
      b.refuseConnection(proc, client, t, 'connection-limit', Via.smtpd);
    } else if (m[1] === 'Connection rate') {
      b.hints.connectionRate = Math.min(b.hints.connectionRate ?? n, n);
      b.refuseConnection(proc, client, t, 'connection-rate', Via.smtpd);
    } else if (m[1] === 'Message delivery request rate') {
      b.hints.messageRate = Math.min(b.hints.messageRate ?? n, n);
      b.mark(proc, client, Via.smtpd, { t, kind: 'mail-refused', refusal: 'message-rate' });
    } else {
      b.hints.recipientRate = Math.min(b.hints.recipientRate ?? n, n);
      b.mark(proc, client, Via.smtpd, { t, kind: 'rcpt-refused', refusal: 'recipient-rate', from: '', to: '' });
    }
    return true;
  }
  if ((m = /^improper command pipelining after (\S+) from \S+?: (.*)$/.exec(text))) {
    if (m[1] === 'CONNECT') b.said(proc, client, t, unescape(m[2]), Via.smtpd);
    return true;
  }
  if ((m = /^NOQUEUE: (?:reject|milter-reject): (\S+) from \S+?: (.*)$/.exec(text))) {
    noqueue(b, t, proc, client, m[1], m[2], Via.smtpd);
    return true;
  }
  if ((m = /^timeout after (\S+) from /.exec(text))) {
    b.timedOut(proc);
    return true;
  }
  if (/^lost connection after /.test(text)) return true;
  if ((m = /^warning: .*bare <?LF>? received/i.exec(text))) {
    b.refuseConnection(proc, client, t, 'bare-newline', Via.smtpd);
    return true;
  }
  if ((m = /^too many errors after /.exec(text))) {
    b.refuseConnection(proc, client, t, 'protocol', Via.smtpd);
    return true;
  }
  if ((m = new RegExp(`^${QID}: client=(\\S+?),?(?: |$)`).exec(text))) {
    const c = CLIENT.exec(m[2]);
    if (!c) return false;
    b.queued(m[1], c[2], t);
    b.mark(proc, c[2], Via.smtpd, { t, kind: 'queued', queueId: m[1] });
    return true;
  }
  if ((m = new RegExp(`^${QID}: (?:reject|milter-reject|discard): (\\S+) .*?: (\\d{3} )?(.*)$`).exec(text))) {
    contentRefusal(b, m[1], m[4]);
    return true;
  }
  return false;
}

/** A NOQUEUE line of smtpd or postscreen: at CONNECT the connection, at MAIL the transaction, at RCPT a recipient. */
function noqueue(b: ObservationBuilder, t: number, key: string, client: string, stage: string, text: string, via: Via): void {
  const reason = text.split('; from=<')[0];
  let refusal: Refusal = refusalOf(reason);
  if (stage === 'CONNECT' && /pipelining/i.test(reason)) refusal = 'pregreet';
  const zone = /blocked using (\S+?)[;,]?(?:\s|$)/.exec(reason)?.[1];
  if (zone && !b.hints.dnsblZones.includes(zone)) b.hints.dnsblZones.push(zone);
  if (stage === 'CONNECT' || stage === 'EHLO' || stage === 'HELO') {
    b.refuseConnection(key, client, t, refusal, via);
  } else if (stage === 'MAIL') {
    b.mark(key, client, via, { t, kind: 'mail-refused', refusal });
  } else if (stage === 'RCPT') {
    b.mark(key, client, via, { t, kind: 'rcpt-refused', refusal, from: field(text, 'from') ?? '', to: field(text, 'to') ?? '' });
  } else {
    // DATA, END-OF-MESSAGE: the transaction was refused after its recipients
    b.mark(key, client, via, { t, kind: 'mail-refused', refusal });
  }
}

function contentRefusal(b: ObservationBuilder, queueId: string, text: string): void {
  const m = b.message(queueId);
  if (m) m.refusal ??= refusalOf(text);
}

function postscreen(b: ObservationBuilder, t: number, text: string): boolean {
  let m: RegExpExecArray | null;
  const c = CLIENT.exec(text);
  if (!c) return false;
  const key = `postscreen ${c[2]}:${c[3] ?? ''}`;
  const client = c[2];
  if ((m = /^CONNECT from /.exec(text))) {
    b.connect(key, client, t, Via.postscreen);
    return true;
  }
  if ((m = /^PREGREET \d+ after \S+ from \S+?: (.*)$/.exec(text))) {
    b.said(key, client, t, unescape(m[1]), Via.postscreen);
    b.refuseConnection(key, client, t, 'pregreet', Via.postscreen);
    return true;
  }
  if ((m = /^DNSBL rank (\d+) for /.exec(text))) {
    b.refuseConnection(key, client, t, 'dnsbl', Via.postscreen);
    return true;
  }
  if ((m = /^(COMMAND PIPELINING|NON-SMTP COMMAND|BARE NEWLINE) from /.exec(text))) {
    b.refuseConnection(key, client, t, m[1] === 'BARE NEWLINE' ? 'bare-newline' : 'protocol', Via.postscreen);
    return true;
  }
  if ((m = /^(?:BLACKLISTED|DENYLISTED) /.exec(text))) {
    b.refuseConnection(key, client, t, 'denied', Via.postscreen);
    return true;
  }
  if ((m = /^NOQUEUE: reject: (\S+) from \S+?: (.*)$/.exec(text))) {
    noqueue(b, t, key, client, m[1], m[2], Via.postscreen);
    return true;
  }
  if (/^DISCONNECT /.test(text)) {
    b.close(key, t);
    return true;
  }
  if (/^(PASS (NEW|OLD)|WHITELISTED|ALLOWLISTED|HANGUP|WHITELIST VETO|ALLOWLIST VETO) /.test(text)) {
    // passed: smtpd takes the connection over (and logs it as its own); this one is counted
    if (/^PASS|^WHITELISTED|^ALLOWLISTED/.test(text)) b.close(key, t);
    return true;
  }
  return false;
}

function anvil(b: ObservationBuilder, text: string): boolean {
  const m = /^statistics: max (connection rate|connection count|message rate) (\d+)(?:\/(\d+)s)? for \([^:]*:([^)]+)\)/.exec(text);
  if (!m) return /^statistics: /.test(text);
  const peaks = b.hints.peaks.get(m[4]) ?? { connections: 0, connectionRate: 0, messageRate: 0 };
  const n = Number(m[2]);
  if (m[1] === 'connection count') peaks.connections = Math.max(peaks.connections, n);
  else if (m[1] === 'connection rate') peaks.connectionRate = Math.max(peaks.connectionRate, n);
  else peaks.messageRate = Math.max(peaks.messageRate, n);
  if (m[3]) b.hints.rateUnitMs = Number(m[3]) * 1000;
  b.hints.peaks.set(m[4], peaks);
  return true;
}

function queueLine(b: ObservationBuilder, t: number, program: string, text: string): boolean {
  const q = QUEUE_LINE.exec(text);
  if (!q) return false;
  const [, queueId, rest] = q;
  let m: RegExpExecArray | null;
  if (program === 'cleanup') {
    if ((m = /^message-id=<?([^>]*)>?/.exec(rest))) {
      const msg = b.message(queueId);
      if (msg) msg.messageId = m[1];
      return true;
    }
    if ((m = /^(?:reject|milter-reject|discard): \S+ .*?: (?:\d{3} )?(?:\d\.\d+\.\d+ )?(.*)$/.exec(rest))) {
      contentRefusal(b, queueId, m[1]);
      return true;
    }
    return false;
  }
  if (program === 'qmgr') {
    if ((m = /^from=<[^>]*>, size=(\d+), nrcpt=(\d+)/.exec(rest))) {
      const msg = b.message(queueId);
      if (!msg) return false;
      msg.received = true;
      msg.size = Number(m[1]);
      msg.recipients = Number(m[2]);
      return true;
    }
    return /^removed$|^from=<[^>]*>, status=expired/.test(rest);
  }
  if ((m = /^to=<([^>]*)>,(?: orig_to=<[^>]*>,)? relay=([^,]+), (?:conn_use=\d+, )?delay=([\d.]+), delays=([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+), dsn=\S+, status=(sent|deferred|bounced)/.exec(rest))) {
    const [, to, relay, delay, , , , transmit, status] = m;
    if (relay === 'none' || relay === 'local' || relay === 'virtual') return true;
    const host = CLIENT.exec(relay)?.[1] ?? relay;
    b.delivery(queueId, to, relay, host, status as 'sent' | 'deferred' | 'bounced', Number(delay), Number(transmit));
    return true;
  }
  return false;
}
