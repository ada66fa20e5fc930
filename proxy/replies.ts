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
  'client-denied': { code: 554, enhanced: '5.7.1', text: 'access denied for your address', close: true },
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
  'too-many-recipients': { code: 452, enhanced: '4.5.3', text: 'too many recipients for one message' },
  'relay-denied': { code: 554, enhanced: '5.7.1', text: 'relay access denied' },
  'address-trick': { code: 550, enhanced: '5.7.1', text: 'address form not accepted (percent hack, bang path or IP literal)' },
  'auth-required-tls': { code: 538, enhanced: '5.7.11', text: 'encryption required for requested authentication mechanism' },
  'need-mail': { code: 503, enhanced: '5.5.1', text: 'need MAIL command' },
  // DATA
  'message-too-large': { code: 552, enhanced: '5.3.4', text: 'message too large' },
  'bad-line-ending': { code: 550, enhanced: '5.6.0', text: 'bare CR, bare LF or NUL in message data not accepted' },
  'worm-attachment': { code: 554, enhanced: '5.7.1', text: 'message refused: blocked attachment type' },
  eicar: { code: 554, enhanced: '5.7.1', text: 'message refused: virus test signature (EICAR) found' },
  spam: { code: 554, enhanced: '5.7.1', text: 'message refused as spam' },
  // backends
  'no-backend': { code: 451, enhanced: '4.3.2', text: 'no mail server available, try again later' },
  'backend-failed': { code: 451, enhanced: '4.4.2', text: 'mail server connection failed, try again later' },
  'backend-timeout': { code: 451, enhanced: '4.4.2', text: 'mail server did not answer in time, try again later' },
  // the proxy's own fault: the client keeps the message and retries
  'internal-error': { code: 451, enhanced: '4.3.0', text: 'internal error' },
} as const satisfies Record<string, Entry>;

export type ReplyReason = keyof typeof REPLIES;

/** The reply for a reason; `detail` is appended so the client sees which limit fired and why. */
export function reply(reason: ReplyReason, detail?: string): Reply {
  const entry: Entry = REPLIES[reason];
  return {
    code: entry.code,
    enhanced: entry.enhanced,
    text: detail ? `${entry.text} (${detail})` : entry.text,
    reason,
    close: entry.close,
  };
}

/** One reply line as written on the wire. */
export function formatReply(r: Pick<Reply, 'code' | 'enhanced' | 'text'>): string {
  return `${r.code} ${r.enhanced} ${r.text}`;
}

/** A backend's reply passed on to the client: its code, its enhanced code when it gave one. */
export function passOn(code: number, text: string, reason = 'backend-reply'): Reply {
  const m = /^([245]\.\d{1,3}\.\d{1,3})\s+(.*)$/s.exec(text);
  const enhanced = m ? m[1] : `${Math.floor(code / 100)}.0.0`;
  return { code, enhanced, text: m ? m[2] : text, reason };
}

/**
 * The replies smtp-server writes on its own (its idle timeout, HTTP requests, overlong
 * lines, its unknown-command limit), mapped to the table so that they too name their
 * limit and are counted under a reason.
 */
export const ENGINE_REPLIES: ReadonlyArray<readonly [RegExp, ReplyReason]> = [
  [/^Timeout - closing connection/, 'idle-timeout'],
  [/^HTTP requests not allowed/, 'http-request'],
  [/Command line too long/i, 'line-too-long'],
  [/too many unrecognized commands/i, 'too-many-errors'],
  [/You talk too soon/, 'early-talker'],
  [/Server shutting down/, 'shutting-down'],
];
