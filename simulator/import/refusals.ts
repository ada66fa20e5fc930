// A refusal's reason from what a log says with it: Postfix's NOQUEUE replies, Haraka's
// `lr=` and `msg=`. The reply classes are the simulator's own (simulator/smtp/reply-class.ts,
// which classes any server's replies for the reports); here they are put in the
// import's words, a little coarser, with what only a log says (a header check) on top.
import { classifyReply } from '../smtp/reply-class.ts';
import type { Refusal } from './observed.ts';

const CLASS: Record<string, Refusal> = {
  'connections-per-client': 'connection-limit',
  'connections-per-network': 'connection-limit',
  'connections-global': 'connection-limit',
  'connection-rate': 'connection-rate',
  'message-rate': 'message-rate',
  'recipient-rate': 'recipient-rate',
  'too-many-recipients': 'too-many-recipients',
  'relay-denied': 'relay-denied',
  'address-trick': 'relay-denied',
  dnsbl: 'dnsbl',
  'bad-line-ending': 'bare-newline',
  'too-many-errors': 'protocol',
  greylisted: 'greylisted',
  'unknown-recipient': 'recipient-unknown',
  spf: 'sender',
  dmarc: 'sender',
  'bad-sender-domain': 'sender',
  'worm-attachment': 'worm',
  virus: 'worm',
  eicar: 'worm',
  spam: 'content',
  'idle-timeout': 'timeout',
  'not-authorized': 'denied',
};

const EXECUTABLE = /\.(exe|scr|pif|bat|com|vbs|js|jar|cmd)\b/i;

/** `text` as logged, with its reply code in front or not (`code` says which, when it does not). */
export function refusalOf(text: string, code = 550): Refusal {
  const m = /^(\d{3})[ -](?:(\d\.\d{1,3}\.\d{1,3}) )?(.*)$/s.exec(text.trim());
  const [c, enhanced, rest] = m ? [Number(m[1]), m[2] ?? null, m[3]] : [code, /^(\d\.\d{1,3}\.\d{1,3}) /.exec(text)?.[1] ?? null, text];
  const cls = classifyReply(c, enhanced, rest);
  if (cls === 'early-talker') return /pre-?greet|talk(ed)? (too )?soon|before (the )?greeting/i.test(rest) ? 'pregreet' : 'protocol';
  const refusal = CLASS[cls];
  if (EXECUTABLE.test(rest) && (refusal === undefined || refusal === 'worm' || refusal === 'denied')) return 'worm';
  if (/content|header check|body check|milter/i.test(rest) && (refusal === undefined || refusal === 'denied')) return 'content';
  if (refusal === undefined && /client host rejected|access denied|denied by policy/i.test(rest)) return 'denied';
  return refusal ?? 'other';
}
