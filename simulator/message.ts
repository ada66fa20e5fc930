// The bytes of a simulated message: headers with the X-Attitude-Id that the
// ledger follows, a body filled to the planned size, and attachments for worms
// (an executable behind a double extension, base64 in multipart/mixed). Spam
// looks like spam (no Date, no Message-ID, many links) so content filters have
// something to score. Content is derived from the id: the same plan sends the same bytes.
import { rng, int, type Random } from './random.ts';
import type { PlannedMessage } from './plan.ts';

export const ID_HEADER = 'X-Attitude-Id';

export type Flavour = 'legit' | 'spam' | 'worm' | 'fraud';

const WORDS = ['the', 'report', 'meeting', 'invoice', 'quarter', 'schedule', 'please', 'review', 'attached', 'project', 'team', 'update', 'thanks', 'regards', 'budget', 'draft', 'customer', 'order', 'delivery', 'tomorrow', 'agenda', 'notes', 'call', 'follow', 'up'];
const SPAM_WORDS = ['cheap', 'offer', 'winner', 'free', 'click', 'now', 'limited', 'bonus', 'casino', 'pills', 'discount', 'unsubscribe', 'urgent', 'prize'];

const CHUNK = 64 * 1024;

export interface BuiltMessage {
  /** total bytes on the wire before the final dot (CRLF lines, no dot-stuffing needed) */
  size: number;
  chunks(): Generator<string>;
}

function line(random: Random, words: readonly string[], width = 72): string {
  let s = '';
  while (s.length < width) s += (s ? ' ' : '') + words[int(random, 0, words.length - 1)];
  return s.slice(0, width);
}

// Filler lines are picked from a pool made once per word list, from a fixed seed: one
// random draw per line instead of a dozen (the flood's bodies must not cost more than
// the proxy under test spends on them), and the same plan still sends the same bytes.
const POOL = 512;
const pools = new Map<readonly string[], string[]>();
function fillLines(words: readonly string[]): string[] {
  let pool = pools.get(words);
  if (!pool) {
    const random = rng('filler', words.join(' '));
    pool = Array.from({ length: POOL }, () => line(random, words) + '\r\n');
    pools.set(words, pool);
  }
  return pool;
}

function base64Lines(random: Random, bytes: number, magic: string): string[] {
  const buf = Buffer.alloc(bytes);
  buf.write(magic, 'latin1');
  for (let i = magic.length; i < bytes; i++) buf[i] = Math.floor(random() * 256);
  const b64 = buf.toString('base64');
  const out: string[] = [];
  for (let i = 0; i < b64.length; i += 76) out.push(b64.slice(i, i + 76));
  return out;
}

export function buildMessage(m: PlannedMessage, flavour: Flavour, date = new Date()): BuiltMessage {
  const random = rng(m.id, 'content');
  const author = m.headerFrom ?? m.from;
  const senderDomain = author.split('@')[1] ?? 'sender.test';
  const boundary = `=_attitude_${m.id.replace(/[^A-Za-z0-9]/g, '')}`;
  const multipart = m.attachments.length > 0;
  const head: string[] = [`From: <${author}>`, `To: ${m.to.slice(0, 3).map((a) => `<${a}>`).join(', ')}${m.to.length > 3 ? ', undisclosed-recipients:;' : ''}`];
  if (flavour === 'spam') {
    head.push(`Subject: ${line(random, SPAM_WORDS, 40)}!!!`);
  } else {
    head.push(`Subject: ${flavour === 'worm' ? 'Your invoice' : flavour === 'fraud' ? 'Urgent: wire transfer today' : line(random, WORDS, 40)}`, `Date: ${date.toUTCString().replace('GMT', '+0000')}`, `Message-ID: <${m.id}@${senderDomain}>`);
  }
  head.push(`${ID_HEADER}: ${m.id}`, 'MIME-Version: 1.0');
  head.push(multipart ? `Content-Type: multipart/mixed; boundary="${boundary}"` : 'Content-Type: text/plain; charset=us-ascii');
  const headText = head.join('\r\n') + '\r\n\r\n';

  const parts: string[] = [];
  if (multipart) parts.push(`--${boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n`);
  const intro =
    flavour === 'worm'
      ? 'Please find the invoice attached. Open it to see the details.'
      : flavour === 'spam'
        ? 'LIMITED OFFER, click below!'
        : flavour === 'fraud'
          ? 'I need you to wire 48,000 EUR to the account below before noon. Keep this between us.'
          : 'Hello,';
  parts.push(intro + '\r\n');
  if (flavour === 'spam') for (let i = 0; i < 8; i++) parts.push(`http://deals${int(random, 1, 999)}.spam.test/offer?id=${int(random, 1, 99999)}\r\n`);
  const tail: string[] = [];
  for (const a of m.attachments) {
    const ext = a.name.split('.').pop()!.toLowerCase();
    const magic = ['exe', 'scr', 'pif', 'com', 'dll'].includes(ext) ? 'MZ\x90\x00' : '';
    tail.push(
      `--${boundary}\r\nContent-Type: application/octet-stream; name="${a.name}"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="${a.name}"\r\n\r\n`,
      base64Lines(random, Math.max(16, a.size), magic).join('\r\n') + '\r\n',
    );
  }
  if (multipart) tail.push(`--${boundary}--\r\n`);

  const fixedBytes = headText.length + parts.reduce((s, p) => s + p.length, 0) + tail.reduce((s, p) => s + p.length, 0);
  const fillCount = Math.max(0, Math.ceil((m.size - fixedBytes) / 74));
  const pool = fillLines(flavour === 'spam' ? SPAM_WORDS : WORDS);
  return {
    size: fixedBytes + fillCount * 74,
    *chunks() {
      let buf = headText + parts.join('');
      for (let i = 0; i < fillCount; i++) {
        buf += pool[int(random, 0, POOL - 1)];
        if (buf.length >= CHUNK) {
          yield buf;
          buf = '';
        }
      }
      buf += tail.join('');
      if (buf) yield buf;
    },
  };
}
