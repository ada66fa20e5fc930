// The one table of the replies the proxy writes itself (DESIGN.md "Reply codes").
// Policies return a reason; only this file knows the codes. The reason is also the
// `reason` label on the metrics and the field in the logs.

export interface Reply {
  code: number;
  enhanced: string;
  text: string;
  /** The label this refusal is counted under (`/metrics`, logs, simulator events). */
  reason: string;
  /** 421 and connection-level refusals close the connection after the reply. */
  close?: boolean;
}

interface Entry {
  code: number;
  enhanced: string;
  text: string;
  close?: boolean;
}

export const REPLIES = {
  // connect
  'connections-global': { code: 421, enhanced: '4.7.0', text: 'too many connections, try again later', close: true },
  'connections-per-client': { code: 421, enhanced: '4.7.0', text: 'too many connections from your address', close: true },
  'connection-rate': { code: 421, enhanced: '4.7.0', text: 'connection rate limit exceeded for your address', close: true },
  'connections-per-network': { code: 421, enhanced: '4.7.0', text: 'too many connections from your network', close: true },
  'network-rate': { code: 421, enhanced: '4.7.0', text: 'connection rate limit exceeded for your network', close: true },
  'shed-under-stress': { code: 421, enhanced: '4.7.0', text: 'server busy, closing the idlest connections, try again later', close: true },
  'command-deadline': { code: 421, enhanced: '4.4.2', text: 'command line not complete within its deadline, closing connection', close: true },
  'client-denied': { code: 554, enhanced: '5.7.1', text: 'access denied for your address', close: true },
  dnsbl: { code: 554, enhanced: '5.7.1', text: 'address refused by its DNS reputation', close: true },
  'early-talker': { code: 554, enhanced: '5.5.1', text: 'protocol error: talked before the greeting', close: true },
  'too-many-errors': { code: 421, enhanced: '4.7.0', text: 'too many errors, closing connection', close: true },
  'idle-timeout': { code: 421, enhanced: '4.4.2', text: 'idle timeout, closing connection', close: true },
  'http-request': { code: 421, enhanced: '4.7.0', text: 'HTTP request on an SMTP port, closing connection', close: true },
  'line-too-long': { code: 421, enhanced: '4.5.2', text: 'command line too long, closing connection', close: true },
  'shutting-down': { code: 421, enhanced: '4.3.2', text: 'service shutting down, try again later', close: true },
  'limits-unavailable': { code: 421, enhanced: '4.3.0', text: 'limit store unavailable, try again later', close: true },
  // MAIL / RCPT
  'message-rate': { code: 450, enhanced: '4.7.1', text: 'message rate limit exceeded for your address' },
  'sender-rate': { code: 450, enhanced: '4.7.1', text: 'message rate limit exceeded for this sender' },
  'recipient-rate': { code: 450, enhanced: '4.7.1', text: 'recipient rate limit exceeded for your address' },
  greylisted: { code: 450, enhanced: '4.7.1', text: 'greylisted, try again in %s' },
  'too-many-recipients': { code: 452, enhanced: '4.5.3', text: 'too many recipients for one message' },
  'relay-denied': { code: 554, enhanced: '5.7.1', text: 'relay access denied' },
  'spf-fail': { code: 550, enhanced: '5.7.23', text: 'SPF validation failed for the sender' },
  'address-trick': { code: 550, enhanced: '5.7.1', text: 'address form not accepted (percent hack, bang path or IP literal)' },
  'auth-required-tls': { code: 538, enhanced: '5.7.11', text: 'encryption required for requested authentication mechanism' },
  'auth-failed': { code: 535, enhanced: '5.7.8', text: 'authentication credentials invalid' },
  'auth-not-enabled': { code: 503, enhanced: '5.5.1', text: 'authentication not enabled' },
  'auth-mechanism': { code: 504, enhanced: '5.5.4', text: 'unrecognized authentication mechanism' },
  'auth-cancelled': { code: 501, enhanced: '5.0.0', text: 'authentication cancelled' },
  'bad-address': { code: 553, enhanced: '5.1.3', text: 'address syntax not accepted' },
  'needs-smtputf8': { code: 553, enhanced: '5.6.7', text: 'non-ASCII address requires SMTPUTF8' },
  // the protocol itself (RFC 5321 4.2.4, 4.3.2)
  'need-helo': { code: 503, enhanced: '5.5.1', text: 'send HELO or EHLO first' },
  'need-mail': { code: 503, enhanced: '5.5.1', text: 'need MAIL command' },
  'need-rcpt': { code: 503, enhanced: '5.5.1', text: 'need RCPT command' },
  'nested-mail': { code: 503, enhanced: '5.5.1', text: 'nested MAIL command' },
  'bad-sequence': { code: 503, enhanced: '5.5.1', text: 'bad sequence of commands' },
  'unknown-command': { code: 500, enhanced: '5.5.2', text: 'command not recognized' },
  'not-implemented': { code: 502, enhanced: '5.5.1', text: 'command not implemented' },
  'bad-arguments': { code: 501, enhanced: '5.5.4', text: 'syntax error in parameters or arguments' },
  'unknown-parameter': { code: 555, enhanced: '5.5.4', text: 'parameter not recognized or not implemented' },
  // DATA
  'message-too-large': { code: 552, enhanced: '5.3.4', text: 'message too large' },
  'bad-line-ending': { code: 550, enhanced: '5.6.0', text: 'bare CR, bare LF or NUL in message data not accepted' },
  'worm-attachment': { code: 554, enhanced: '5.7.1', text: 'message refused: blocked attachment type' },
  eicar: { code: 554, enhanced: '5.7.1', text: 'message refused: virus test signature (EICAR) found' },
  'archive-unreadable': { code: 554, enhanced: '5.7.1', text: 'message refused: archive attachment cannot be checked' },
  spam: { code: 554, enhanced: '5.7.1', text: 'message refused as spam' },
  'dmarc-reject': { code: 550, enhanced: '5.7.1', text: "message refused by its sender domain's DMARC policy" },
  // backends
  'no-backend': { code: 451, enhanced: '4.3.2', text: 'no mail server available, try again later' },
  'backend-failed': { code: 451, enhanced: '4.4.2', text: 'mail server connection failed, try again later' },
  'backend-timeout': { code: 451, enhanced: '4.4.2', text: 'mail server did not answer in time, try again later' },
  // the proxy's own fault: the client keeps the message and retries
  'internal-error': { code: 451, enhanced: '4.3.0', text: 'internal error' },
  // never written (nobody is there to read it): the reason a transaction ended, for its log line and metrics
  'client-gone': { code: 421, enhanced: '4.4.2', text: 'the client went away' },
} as const satisfies Record<string, Entry>;

export type ReplyReason = keyof typeof REPLIES;

/**
 * The reply for a reason; `detail` is appended so the client sees which limit fired
 * and why (or fills the `%s` of a text that has one).
 */
export function reply(reason: ReplyReason, detail?: string): Reply {
  const entry: Entry = REPLIES[reason];
  const text = entry.text.includes('%s') ? entry.text.replace('%s', detail ?? 'a while') : detail ? `${entry.text} (${detail})` : entry.text;
  return {
    code: entry.code,
    enhanced: entry.enhanced,
    text,
    reason,
    close: entry.close,
  };
}

/**
 * A reply as written on the wire, without the final CRLF. A multi-line text (a
 * backend's reply passed on) becomes `code-` lines and a last `code ` line; the
 * enhanced code leads the first line, the backend's own stay on the others.
 */
export function formatReply(r: Pick<Reply, 'code' | 'enhanced' | 'text'>): string {
  const first = r.enhanced ? `${r.enhanced} ` : '';
  if (!r.text.includes('\n')) return `${r.code} ${first}${r.text}`;
  const lines = r.text.split('\n');
  return lines.map((l, i) => `${r.code}${i === lines.length - 1 ? ' ' : '-'}${i === 0 ? first : ''}${l}`).join('\r\n');
}

/** A backend's reply passed on to the client: its code, its enhanced code when it gave one. */
export function passOn(code: number, text: string, reason = 'backend-reply'): Reply {
  const m = /^([245]\.\d{1,3}\.\d{1,3})\s+(.*)$/s.exec(text);
  const enhanced = m ? m[1] : `${Math.floor(code / 100)}.0.0`;
  return { code, enhanced, text: m ? m[2] : text, reason };
}
