// A refusal's reason from the text a server logged with it (Postfix's NOQUEUE lines
// and warnings, Haraka's replies). Text is all a log has: these are the phrases of
// Postfix 3.x and of Haraka's core and usual plugins, most specific first.
import type { Refusal } from './observed.ts';

const EXECUTABLE = /\.(exe|scr|pif|bat|com|vbs|js|jar|cmd)\b/i;

const RULES: Array<[RegExp, Refusal]> = [
  [/relay access denied|relaying denied|i cannot deliver mail for|not allowed to relay|relay not permitted/i, 'relay-denied'],
  [/blocked using|listed by|dnsbl|\bblacklisted\b|\bblocklisted\b|\bspamhaus\b|\brbl\b/i, 'dnsbl'],
  [/improper (?:use of smtp )?command pipelining after connect|pregreet|talk(?:ed)? too soon|you talk too soon|early talker/i, 'pregreet'],
  [/bare <?lf>?|bare newline|bare line-?feed/i, 'bare-newline'],
  [/improper (?:use of smtp )?command pipelining|protocol error|non-smtp command|too many errors|syntax error/i, 'protocol'],
  [/connection concurrency limit|too many (?:concurrent )?connections|concurrency limit|all server ports busy/i, 'connection-limit'],
  [/connection rate limit|too many connections per|rate limit exceeded.*connect|connect.*rate limit/i, 'connection-rate'],
  [/too many recipients|too many recipient attempts|recipient limit/i, 'too-many-recipients'],
  [/recipient address rate limit|recipient rate limit|rcpt.*rate limit/i, 'recipient-rate'],
  [/message delivery request rate limit|too much mail from|message rate limit|rate limit exceeded|mail.*rate limit/i, 'message-rate'],
  [/greylist|try again later.*triplet|postgrey/i, 'greylisted'],
  [/user unknown|unknown user|recipient address rejected|no such user|mailbox unavailable|invalid recipient/i, 'recipient-unknown'],
  [/sender address rejected|spf|dmarc|domain not found|sender domain/i, 'sender'],
  [/client host rejected|access denied|denied by policy|\bdeny(?:list)?\b/i, 'denied'],
  [/attachment|virus|malware|infected|worm/i, 'worm'],
  [/spam|content rejected|message content|header check|body check|gtube|milter/i, 'content'],
  [/timeout|timed out/i, 'timeout'],
];

export function refusalOf(text: string): Refusal {
  for (const [re, refusal] of RULES) {
    if (re.test(text)) return refusal === 'worm' || refusal === 'content' ? (EXECUTABLE.test(text) ? 'worm' : refusal) : refusal;
  }
  return EXECUTABLE.test(text) ? 'worm' : 'other';
}
