// Who the backend is told the client is: by XCLIENT (Postfix
// `smtpd_authorized_xclient_hosts`) or by a PROXY protocol header. A backend
// connection that carries one client's identity serves that client only.

export interface ClientIdentity {
  ip: string;
  port: number;
  /** the name the client gave in HELO/EHLO ('' before it did) */
  helo: string;
  localIp: string;
  localPort: number;
  /** the user it authenticated as (AUTH), null for an anonymous session */
  login: string | null;
  /** its verified host name when known (reverse DNS), null otherwise */
  name: string | null;
}

/** What a pooled connection that carries an identity may be reused for. */
export function identityKey(who: ClientIdentity): string {
  return `${who.ip} ${who.helo} ${who.login ?? ''}`;
}

/**
 * The XCLIENT command for `who`. Postfix logs and checks the client it names, and
 * LOGIN= lets an authenticated user relay through Postfix as it would directly
 * (`permit_sasl_authenticated`).
 */
export function xclientCommand(who: ClientIdentity): string {
  const attrs = [`ADDR=${who.ip}`, `PORT=${who.port}`, `NAME=${who.name ? xtext(who.name) : '[UNAVAILABLE]'}`];
  if (who.helo) attrs.push(`HELO=${xtext(who.helo)}`);
  attrs.push(`PROTO=${who.helo ? 'ESMTP' : 'SMTP'}`);
  if (who.login) attrs.push(`LOGIN=${xtext(who.login)}`);
  return `XCLIENT ${attrs.join(' ')}`;
}

/** RFC 1891 xtext for XCLIENT attribute values. */
function xtext(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    out += byte < 0x21 || byte > 0x7e || byte === 0x2b || byte === 0x3d ? '+' + byte.toString(16).toUpperCase().padStart(2, '0') : String.fromCharCode(byte);
  }
  return out;
}
