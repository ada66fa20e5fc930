// What kind of refusal another server's reply is, from its code, its enhanced
// status code and its text: Postfix's "421 4.7.0 mx Error: too many connections
// from 127.11.0.1", Haraka's "connection concurrency limit exceeded", a postgrey
// "450 4.2.0 Greylisted". The classes use the reference proxy's reason labels
// where the meaning is the same, so a comparison lines the targets up; what no
// rule knows falls back to the meaning of its enhanced code (RFC 3463), then of
// its code (RFC 5321), never a bare number.

interface Rule {
  reason: string;
  test: RegExp;
  /** only for these codes (a 2xx or 3xx is never a refusal) */
  codes?: (code: number) => boolean;
}

const permanent = (code: number) => code >= 500;

/** First match wins: the specific before the general (a greylisting 450 also says "Recipient address rejected"). */
const RULES: Rule[] = [
  { reason: 'greylisted', test: /gr[ae]y[- ]?list/i },
  // Postfix's anvil says the same for its count and its rate limit; Haraka's limit plugin names concurrency
  { reason: 'connections-per-client', test: /too many (concurrent )?connections from|connection concurrency limit|too many concurrent connections|per[- ](client|ip|host) (connection )?limit/i },
  { reason: 'connection-rate', test: /connection rate|too many connection attempts|connecting too fast/i },
  { reason: 'connections-per-network', test: /too many connections from your (network|subnet)/i },
  { reason: 'connections-global', test: /too many (connections|sessions|clients)|all server ports are busy|server (is )?(too )?busy|maximum (number of )?connections/i },
  { reason: 'early-talker', test: /protocol error|pre-?greet|talked before|talk too soon|before (the )?greeting|improper pipelining|pipelining not allowed/i },
  { reason: 'dnsbl', test: /blocked using|listed (by|in|at|on)|black ?list|block ?list|dnsbl|\brbl\b|spamhaus|reputation/i },
  { reason: 'spf', test: /\bspf\b/i },
  { reason: 'dmarc', test: /\bdmarc\b/i },
  { reason: 'relay-denied', test: /relay(ing)? (access )?(denied|not permitted|not allowed|prohibited)|not permitted to relay|unable to relay|we do not relay|relay not permitted|cannot deliver mail for/i },
  { reason: 'address-trick', test: /percent hack|bang path|ip literal|source rout/i },
  { reason: 'too-many-recipients', test: /too many recipients(?! from)|too many recipient attempts|recipient limit|too many rcpt|maximum (number of )?recipients|recipients? (count|limit) exceeded/i },
  { reason: 'recipient-rate', test: /recipient rate|too many recipients from|rcpt rate/i },
  { reason: 'message-rate', test: /too much mail|message rate|mail rate|rate limit|too many messages|sending too fast/i },
  { reason: 'message-too-large', test: /too (large|big)|size exceeds|exceeds (the )?(fixed |maximum )?(message )?size|message size/i },
  { reason: 'bad-line-ending', test: /bare (<?lf>?|cr|newline|linefeed|line ?feed)|line ending|smuggl/i },
  { reason: 'eicar', test: /eicar/i },
  { reason: 'virus', test: /virus|malware|infected|trojan/i },
  { reason: 'worm-attachment', test: /attachment|file ?type|extension|banned (file|name)/i },
  { reason: 'spam', test: /spam|junk|gtube|bulk mail/i },
  { reason: 'unknown-recipient', test: /user unknown|unknown user|no such (user|mailbox|recipient)|does not exist|invalid recipient|mailbox unavailable|recipient address rejected/i, codes: permanent },
  { reason: 'too-many-errors', test: /too many (errors|bad commands|unrecognized commands|invalid commands)/i },
  { reason: 'idle-timeout', test: /time ?out|timed out|idle|too slow/i },
  { reason: 'shutting-down', test: /shutting down|restarting/i },
  { reason: 'tls-required', test: /starttls|tls (is )?required|must issue a starttls/i },
  { reason: 'auth-required', test: /authentication required|auth(entication)? (is )?required/i },
  { reason: 'temporary-failure', test: /temporar(y|ily)|try (again )?later|queue file write error|local error/i, codes: (c) => c < 500 },
];

/** RFC 3463: the subject (second number) and a few details (subject.detail). */
const ENHANCED_DETAIL: Record<string, string> = {
  '1.1': 'unknown-recipient',
  '1.2': 'unknown-domain',
  '1.3': 'bad-address',
  '1.8': 'bad-sender-domain',
  '2.1': 'mailbox-disabled',
  '2.2': 'mailbox-full',
  '3.1': 'mail-system-full',
  '3.2': 'not-accepting-mail',
  '3.4': 'message-too-large',
  '4.1': 'no-answer-from-host',
  '4.2': 'bad-connection',
  '4.5': 'system-congestion',
  '5.1': 'bad-command',
  '5.2': 'syntax-error',
  '5.3': 'too-many-recipients',
  '7.1': 'not-authorized',
  '7.23': 'spf',
};
const ENHANCED_SUBJECT: Record<string, string> = {
  '0': 'other',
  '1': 'address',
  '2': 'mailbox',
  '3': 'mail-system',
  '4': 'network',
  '5': 'protocol',
  '6': 'content',
  '7': 'policy',
};

/** RFC 5321's meaning of the bare code, the last resort. */
const CODE: Record<number, string> = {
  421: 'service-unavailable',
  450: 'mailbox-busy',
  451: 'local-error',
  452: 'insufficient-storage',
  454: 'temporary-failure',
  500: 'syntax-error',
  501: 'syntax-error',
  502: 'not-implemented',
  503: 'bad-sequence',
  504: 'not-implemented',
  521: 'does-not-accept-mail',
  530: 'auth-required',
  550: 'mailbox-unavailable',
  551: 'user-not-local',
  552: 'storage-exceeded',
  553: 'bad-address',
  554: 'transaction-failed',
  556: 'does-not-accept-mail',
};

/** The class of a refusal (a 4xx or 5xx) by any server; `text` without the code, enhanced code included or not. */
export function classifyReply(code: number, enhanced: string | null, text: string): string {
  for (const r of RULES) if ((!r.codes || r.codes(code)) && r.test.test(text)) return r.reason;
  if (enhanced) {
    const [, subject, detail] = enhanced.split('.');
    const byDetail = ENHANCED_DETAIL[`${subject}.${detail}`];
    if (byDetail) return byDetail;
    if (ENHANCED_SUBJECT[subject]) return ENHANCED_SUBJECT[subject];
  }
  return CODE[code] ?? `${Math.floor(code / 100)}xx-other`;
}
