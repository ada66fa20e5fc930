// What a transaction's log line says beyond counts: the recipients, as much of them as
// `log.recipients` allows, and the id the backend queued the message under, so the
// message can be followed into the backend's own log.
import { createHash } from 'node:crypto';

export type RecipientLogging = 'full' | 'hash' | 'none';

/**
 * The recipients as the log may show them; undefined when it may not. A hash is the
 * first 16 hex digits of SHA-256 of the address in lower case, so an admin can find a
 * recipient's lines (`printf %s bob@example.org | sha256sum | cut -c1-16`) without the
 * log holding addresses. It is a pseudonym, not anonymity: a known address can be tried.
 */
export function recipientsForLog(recipients: readonly string[], mode: RecipientLogging): string[] | undefined {
  if (mode === 'none') return undefined;
  if (mode === 'full') return [...recipients];
  return recipients.map((r) => `sha256:${createHash('sha256').update(r.toLowerCase(), 'utf8').digest('hex').slice(0, 16)}`);
}

/**
 * The queue id in a backend's 250 to the final dot: Postfix and smtp-sink say
 * `Ok: queued as 4F2A1C0D`, Exim `OK id=1qAbCd-000Xyz-Ab`, Sendmail
 * `2.0.0 4BKGx1ab012345 Message accepted for delivery`. Null when it names none.
 */
export function queueIdOf(replyText: string): string | null {
  const m = /\bqueued as ([^\s;,]+)/i.exec(replyText) ?? /\bid=([^\s;,]+)/.exec(replyText) ?? /^(?:\d\.\d{1,3}\.\d{1,3} )?(\S+) Message accepted for delivery/i.exec(replyText);
  return m ? m[1].slice(0, 64) : null;
}
