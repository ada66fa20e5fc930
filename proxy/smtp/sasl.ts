// AUTH (RFC 4954) with the PLAIN and LOGIN mechanisms, for relay.auth users. Like
// Postfix's smtpd_tls_auth_only, AUTH is offered and taken only over TLS unless
// `allowPlaintext`: a password must not cross the network in the clear, so a client
// asking without TLS is told 538 before it sends one (with LOGIN), and no EHLO in
// the clear invites it to try.
import { reply } from '../replies.ts';
import type { Session } from './session.ts';

/** Whether this session may authenticate now. */
export function authOffered(s: Session): boolean {
  const auth = s.ctx.config().relay.auth;
  return !!auth && (s.secure || auth.allowPlaintext);
}

export async function authenticate(s: Session, args: string): Promise<void> {
  const auth = s.ctx.config().relay.auth;
  if (!auth) return s.send(reply('auth-not-enabled'));
  if (!s.helo || !s.esmtp) return s.send(reply('bad-sequence', 'send EHLO first'));
  if (s.user) return s.send(reply('bad-sequence', 'already authenticated'));
  if (s.tx) return s.send(reply('bad-sequence', 'AUTH is not allowed during a mail transaction'));
  const [mechanism = '', initial] = args.split(' ');
  const mech = mechanism.toUpperCase();
  if (mech !== 'PLAIN' && mech !== 'LOGIN') return s.send(reply('auth-mechanism', mechanism));
  if (!authOffered(s)) return s.refuse('auth', reply('auth-required-tls'));
  let user: string | null;
  let pass: string | null;
  if (mech === 'PLAIN') {
    const response = initial ?? (await challenge(s, ''));
    if (response === null) return;
    if (response === '*') return s.send(reply('auth-cancelled'));
    const parts = decode(response)?.split('\0');
    if (!parts || parts.length !== 3) return s.send(reply('bad-arguments', 'AUTH PLAIN expects authzid NUL user NUL password in base64'));
    [, user, pass] = parts;
  } else {
    const u = initial ?? (await challenge(s, 'Username:'));
    if (u === null) return;
    if (u === '*') return s.send(reply('auth-cancelled'));
    const p = await challenge(s, 'Password:');
    if (p === null) return;
    if (p === '*') return s.send(reply('auth-cancelled'));
    user = decode(u);
    pass = decode(p);
    if (user === null || pass === null) return s.send(reply('bad-arguments', 'AUTH LOGIN expects base64'));
  }
  if (!s.ctx.defenses.authenticate(user, pass)) return s.refuse('auth', reply('auth-failed'));
  s.user = user;
  s.identity.login = user;
  return s.send({ code: 235, enhanced: '2.7.0', text: 'Authentication successful' });
}

/** A 334 challenge and the client's answer line (null when the client went away). */
async function challenge(s: Session, prompt: string): Promise<string | null> {
  await s.send({ code: 334, enhanced: '', text: Buffer.from(prompt).toString('base64') });
  const line = await s.reader.nextLine();
  if ('end' in line) {
    if (line.end === 'idle') s.goodbye(reply('idle-timeout'), 'session');
    else if (line.end === 'too-long') s.goodbye(reply('line-too-long'), 'session');
    return null;
  }
  return line.text.trim();
}

function decode(b64: string): string | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return null;
  return Buffer.from(b64, 'base64').toString('utf8');
}
