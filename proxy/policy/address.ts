// Judging envelope addresses for relay decisions (DESIGN.md "Never an open relay").
// An MTA behind the proxy may route `u%other@served`, `other!u@served` or
// `"u@other"@served` onwards to `other`, so accepting them for a served domain would
// make the pair an open relay. They are refused outright, even where a backend would
// treat them as local: the proxy cannot know how the backend routes them.
import net from 'node:net';
import { domainToASCII } from 'node:url';
import { memoize } from './memo.ts';

export interface ParsedAddress {
  /** Local part with quotes and backslash escapes removed. */
  local: string;
  localQuoted: boolean;
  /** Domain as written ('' for a bare local part). */
  domain: string;
  /** Source route hops (`@a,@b:`); RFC 5321 says to ignore them, so only the final address counts. */
  route: string[];
}

/** Splits an address (with or without `<>`); null when it cannot be read at all. */
export function parseAddress(addr: string): ParsedAddress | null {
  let s = addr.trim();
  if (s.startsWith('<') && s.endsWith('>')) s = s.slice(1, -1).trim();
  const route: string[] = [];
  if (s.startsWith('@')) {
    let i = 0;
    for (;;) {
      if (s[i] !== '@') return null;
      const end = hopEnd(s, i + 1);
      if (end < 0 || end === i + 1) return null;
      route.push(s.slice(i + 1, end));
      i = end + 1;
      if (s[end] === ':') break;
    }
    s = s.slice(i);
  }
  if (s === '') return null;
  if (s.startsWith('"')) {
    let j = 1;
    let local = '';
    for (; j < s.length && s[j] !== '"'; j++) local += s[j] === '\\' ? (s[++j] ?? '') : s[j];
    if (j >= s.length) return null;
    const rest = s.slice(j + 1);
    if (rest !== '' && !rest.startsWith('@')) return null;
    return { local, localQuoted: true, domain: rest.slice(1), route };
  }
  // the last @ is the one an MTA routes by; any @ before it stays in the local part
  const at = s.lastIndexOf('@');
  if (at === 0) return null;
  return at < 0
    ? { local: s, localQuoted: false, domain: '', route }
    : { local: s.slice(0, at), localQuoted: false, domain: s.slice(at + 1), route };
}

/** Index of the `,` or `:` ending a route hop that starts at i (a `[...]` literal may hold colons). */
function hopEnd(s: string, i: number): number {
  let inLiteral = false;
  for (; i < s.length; i++) {
    if (s[i] === '[') inLiteral = true;
    else if (s[i] === ']') inLiteral = false;
    else if (!inLiteral && (s[i] === ',' || s[i] === ':')) return i;
  }
  return -1;
}

export type AddressTrick =
  | 'malformed'
  | 'multiple-at'
  | 'quoted-at'
  | 'percent-hack'
  | 'quoted-percent-hack'
  | 'bang-path'
  | 'quoted-bang-path'
  | 'no-domain'
  | 'ip-literal'
  | 'bad-domain';

/**
 * Names the routing trick in an address, or null for a plain `local@domain`.
 * `<Postmaster>` without a domain is not a trick: RFC 5321 4.5.1 requires accepting it.
 */
export function addressTrick(addr: string): AddressTrick | null {
  const p = parseAddress(addr);
  if (!p) return 'malformed';
  const q = p.localQuoted ? 'quoted-' : '';
  if (p.local.includes('@')) return p.localQuoted ? 'quoted-at' : 'multiple-at';
  if (p.local.includes('%')) return `${q}percent-hack` as AddressTrick;
  if (p.local.includes('!')) return `${q}bang-path` as AddressTrick;
  if (p.domain === '') return !p.localQuoted && p.local.toLowerCase() === 'postmaster' ? null : 'no-domain';
  if (p.domain.startsWith('[')) return 'ip-literal';
  const domain = normalizeDomain(p.domain);
  if (domain === null) return 'bad-domain';
  // `u@127.1` or `u@0x7f.1` normalize to an IPv4 address: an IP literal without brackets
  if (net.isIP(domain)) return 'ip-literal';
  return null;
}

/** Lower case, IDNA to-ASCII, no trailing dot; null when it is not a valid host name. */
export const normalizeDomain = memoize((domain: string): string | null => {
  const trimmed = domain.trim().replace(/\.$/, '');
  if (trimmed === '') return null;
  const ascii = domainToASCII(trimmed);
  if (ascii === '' || ascii.length > 253) return null;
  const labels = ascii.split('.');
  return labels.every((l) => /^[a-z0-9_-]{1,63}$/.test(l)) ? ascii : null;
});

interface ServedSet {
  exact: Set<string>;
  /** parents whose subdomains are served (`.example.test` entries) */
  parents: string[];
}

const servedCache = new WeakMap<readonly string[], ServedSet>();

function servedSet(served: readonly string[]): ServedSet {
  let set = servedCache.get(served);
  if (set) return set;
  set = { exact: new Set(), parents: [] };
  for (const entry of served) {
    const sub = /^(\*?\.)/.exec(entry.trim());
    const name = normalizeDomain(sub ? entry.trim().slice(sub[1].length) : entry);
    if (name === null) continue;
    if (sub) set.parents.push(name);
    else set.exact.add(name);
  }
  servedCache.set(served, set);
  return set;
}

/**
 * Whether recipients at `domain` are ours. Subdomains do NOT match a plain entry:
 * `example.test` serves only example.test; `.example.test` (or `*.example.test`)
 * serves its subdomains, so list both for both. This is Postfix's explicit `.domain`
 * form (relay_domains with parent_domain_matches_subdomains emptied) rather than its
 * backward-compatible default: a proxy that silently accepts any.sub.example.test
 * hands the backend mail for names it may not host and may relay on.
 */
export function isServedDomain(domain: string, servedDomains: readonly string[]): boolean {
  const d = normalizeDomain(domain);
  if (d === null || net.isIP(d)) return false;
  const set = servedSet(servedDomains);
  return set.exact.has(d) || set.parents.some((p) => d.endsWith(`.${p}`));
}

export type RecipientJudgement =
  | { kind: 'local'; domain: string }
  | { kind: 'remote'; domain: string }
  | { kind: 'trick'; trick: AddressTrick };

/** Where a recipient goes: a served local user, another domain (relaying), or a trick. */
export function judgeRecipient(addr: string, servedDomains: readonly string[]): RecipientJudgement {
  const trick = addressTrick(addr);
  if (trick) return { kind: 'trick', trick };
  const p = parseAddress(addr)!;
  if (p.domain === '') return { kind: 'local', domain: '' }; // <Postmaster>
  const domain = normalizeDomain(p.domain)!;
  return isServedDomain(domain, servedDomains) ? { kind: 'local', domain } : { kind: 'remote', domain };
}

export type NormalizedPath = { ok: true; address: string } | { ok: false; reason: 'bad-address' | 'needs-smtputf8'; detail: string };

/** RFC 5321 atext (and, with SMTPUTF8, any non-ASCII character: RFC 6531 3.3). */
const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\u{10FFFF}-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\u{10FFFF}-]+)*$/u;

/**
 * The address a transaction judges and forwards, one and the same (the `<...>` of
 * MAIL or RCPT without its brackets): source routes dropped (RFC 5321 4.1.1.3 lets
 * the receiver ignore them), the domain in its normalized ASCII form (IDNA: case,
 * fullwidth forms and soft hyphens folded, as the relay check saw it), the local part
 * as the client wrote it, quoted where it must be. What cannot be forwarded as it was
 * judged is refused: comments, control characters, and non-ASCII local parts without
 * SMTPUTF8. The null path `<>` stays ''.
 */
export function normalizePath(path: string, smtputf8: boolean): NormalizedPath {
  if (path === '') return { ok: true, address: '' };
  const bad = (detail: string): NormalizedPath => ({ ok: false, reason: 'bad-address', detail });
  if (/[\x00-\x1f\x7f]/.test(path)) return bad('control character in the address');
  if (/[<>]/.test(path.replace(/"(?:[^"\\]|\\.)*"/g, ''))) return bad('angle bracket inside the address');
  if (/[()]/.test(path.replace(/"(?:[^"\\]|\\.)*"/g, ''))) return bad('comments are not allowed in an SMTP address');
  const p = parseAddress(path);
  if (!p) return bad('malformed address');
  if (!smtputf8 && /[^\x00-\x7f]/.test(p.local)) return { ok: false, reason: 'needs-smtputf8', detail: 'the local part is not ASCII' };
  let domain = '';
  if (p.domain.startsWith('[')) {
    const literal = /^\[(?:IPv6:)?([^\]]+)\]$/i.exec(p.domain);
    if (!literal || !net.isIP(literal[1]) || (net.isIPv6(literal[1]) !== /^\[IPv6:/i.test(p.domain))) return bad('malformed address literal');
    domain = net.isIPv6(literal[1]) ? `[IPv6:${literal[1].toLowerCase()}]` : `[${literal[1]}]`;
  } else if (p.domain !== '') {
    const ascii = normalizeDomain(p.domain);
    if (ascii === null) return bad('malformed domain');
    domain = ascii;
  }
  // an unquoted local part is a dot-atom; one with more @ in it (a routing trick the
  // relay check names) is kept as it was read, quoted
  if (!p.localQuoted && !DOT_ATOM.test(p.local.replaceAll('@', '.'))) return bad('malformed local part');
  const local = !p.localQuoted && DOT_ATOM.test(p.local) ? p.local : `"${p.local.replace(/(["\\])/g, '\\$1')}"`;
  return { ok: true, address: domain ? `${local}@${domain}` : local };
}
