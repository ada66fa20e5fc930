// Haraka's log in its default format (`[NOTICE] [UUID.1] [core] text`), with the
// timestamps of log.ini's `timestamps=true` or of the syslog/journal it went through:
// a connection per uuid from `connect ip=` to `disconnect ... txns= rcpts= msgs= lr=`,
// a transaction per `.N` suffix (`sender`, `recipient ... code=`, `message mid=`,
// `queue code=`). Haraka forwards or queues a message it accepts; this log is all there
// is, so a queued message counts as delivered.
import { LogClock } from './log-time.ts';
import { ObservationBuilder, type Observation } from './observed.ts';
import { refusalOf } from './refusals.ts';

const LINE = /^(?:\S+ \S+\[\d+\]: )?\[([A-Z]+)\] \[([0-9A-Fa-f-]{8,})(?:\.(\d+))?\] \[([^\]]+)\] (.*)$/;

const kv = (text: string, key: string): string | null => {
  const m = new RegExp(`(?:^| )${key}=(?:"((?:[^"\\\\]|\\\\.)*)"|(\\S*))`).exec(text);
  return m ? (m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]) : null;
};

/** `rcpts=1/0/2`: accepted / tempfailed / rejected */
const triple = (v: string | null) => (v ?? '0/0/0').split('/').map(Number) as [number, number, number];

const DENY = /^DENY/;

export class HarakaWithoutTimes extends Error {}

export function readHarakaLog(text: string): Observation {
  const clock = new LogClock();
  const b = new ObservationBuilder('haraka');
  let untimed = 0;
  let timed = 0;
  const senders = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue;
    b.lines++;
    const stamp = clock.read(line);
    if (!stamp) {
      if (/^\[[A-Z]+\] \[/.test(line)) untimed++;
      continue;
    }
    timed++;
    b.seen(stamp.t, stamp.fraction);
    const m = LINE.exec(stamp.rest);
    if (!m || m[4] !== 'core' || !readLine(b, stamp.t, m[2], m[3] ? `${m[2]}.${m[3]}` : null, m[5], senders)) b.skipped++;
  }
  if (untimed && !timed) throw new HarakaWithoutTimes('the log has no timestamps: set timestamps=true in Haraka\'s config/log.ini, or import the syslog or journal it went to (journalctl -u haraka -o short-iso)');
  b.offsetMs = clock.offsetMs ?? 0;
  return b.finish();
}

function readLine(b: ObservationBuilder, t: number, uuid: string, tx: string | null, text: string, senders: Map<string, string>): boolean {
  const client = b.session(uuid)?.client ?? '';
  let m: RegExpExecArray | null;
  if (text.startsWith('connect ')) {
    const ip = kv(text, 'ip');
    if (!ip) return false;
    b.connect(uuid, ip, t, 'haraka');
    return true;
  }
  if (text.startsWith('disconnect ')) {
    const s = b.session(uuid);
    if (!s) return false;
    if (kv(text, 'early') === 'Y') b.said(uuid, s.client, t, '(talked before the banner)', 'haraka');
    const txns = Number(kv(text, 'txns') ?? 0);
    const [ra, rt, rr] = triple(kv(text, 'rcpts'));
    const lr = kv(text, 'lr') ?? '';
    if (txns === 0 && lr) b.refuseConnection(uuid, s.client, t, refusalOf(lr), 'haraka');
    b.close(uuid, t, { mail: { tried: txns, failed: 0 }, rcpt: { tried: ra + rt + rr, failed: rt + rr } });
    return true;
  }
  if ((m = /^sender <([^>]*)> /.exec(text)) && tx) {
    senders.set(tx, m[1]);
    const code = kv(text, 'code') ?? '';
    if (DENY.test(code)) b.mark(uuid, client, 'haraka', { t, kind: 'mail-refused', refusal: refusalOf(kv(text, 'msg') ?? code, code === 'DENYSOFT' ? 450 : 550) });
    return true;
  }
  if ((m = /^recipient <([^>]*)> /.exec(text)) && tx) {
    const code = kv(text, 'code') ?? '';
    if (DENY.test(code)) {
      b.mark(uuid, client, 'haraka', { t, kind: 'rcpt-refused', refusal: refusalOf(kv(text, 'msg') ?? code, code === 'DENYSOFT' ? 450 : 550), from: kv(text, 'sender') ?? senders.get(tx) ?? '', to: m[1] });
    } else {
      if (!b.message(tx)) b.mark(uuid, client, 'haraka', { t, kind: 'queued', queueId: tx });
      const msg = b.queued(tx, client, t);
      const domain = m[1].split('@')[1]?.toLowerCase();
      if (domain && !msg.domains.includes(domain)) msg.domains.push(domain);
    }
    return true;
  }
  if (text.startsWith('message ') && tx) {
    const msg = b.message(tx);
    if (!msg) return false;
    msg.messageId = (kv(text, 'mid') ?? '').replace(/^<|>$/g, '') || null;
    msg.size = Number(kv(text, 'size') ?? 0);
    msg.recipients = triple(kv(text, 'rcpts'))[0];
    const code = kv(text, 'code') ?? '';
    if (DENY.test(code)) msg.refusal = refusalOf(kv(text, 'msg') ?? code);
    return true;
  }
  if (text.startsWith('queue ') && tx) {
    const msg = b.message(tx);
    if (!msg) return false;
    const code = kv(text, 'code') ?? '';
    if (code === 'OK') {
      msg.received = true;
      msg.sent = msg.recipients ?? 1;
    } else if (DENY.test(code)) msg.refusal ??= refusalOf(kv(text, 'msg') ?? code);
    return true;
  }
  return false;
}
