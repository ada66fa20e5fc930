import { describe, expect, it } from 'vitest';
import { addressTrick, isServedDomain, judgeRecipient, normalizeDomain, parseAddress } from '../../proxy/policy/address.ts';

describe('parseAddress', () => {
  it('splits local@domain, with or without angle brackets', () => {
    expect(parseAddress('user@example.test')).toEqual({ local: 'user', localQuoted: false, domain: 'example.test', route: [] });
    expect(parseAddress('<user@example.test>')?.domain).toBe('example.test');
    expect(parseAddress('postmaster')).toMatchObject({ local: 'postmaster', domain: '' });
  });

  it('reads quoted local parts with escapes', () => {
    expect(parseAddress('"john smith"@example.test')).toMatchObject({ local: 'john smith', localQuoted: true, domain: 'example.test' });
    expect(parseAddress('"a\\"b"@x.test')).toMatchObject({ local: 'a"b' });
    expect(parseAddress('"u@other"@served.test')).toMatchObject({ local: 'u@other', domain: 'served.test' });
  });

  it('strips a source route and keeps the final address', () => {
    expect(parseAddress('@a.test,@b.test:u@c.test')).toEqual({ local: 'u', localQuoted: false, domain: 'c.test', route: ['a.test', 'b.test'] });
    expect(parseAddress('@[IPv6:::1]:u@c.test')).toMatchObject({ domain: 'c.test', route: ['[IPv6:::1]'] });
  });

  it('splits at the last @, the one an MTA routes by', () => {
    expect(parseAddress('a@b.test@c.test')).toMatchObject({ local: 'a@b.test', domain: 'c.test' });
  });

  it('returns null for what cannot be read', () => {
    for (const bad of ['', '<>', '@x.test', '@a.test,u@b.test', '"unterminated@x.test', '"a"b@x.test', '@:u@x.test']) {
      expect(parseAddress(bad), bad).toBeNull();
    }
  });
});

describe('addressTrick', () => {
  it.each([
    ['u%other.test@served.test', 'percent-hack'],
    ['other.test!u@served.test', 'bang-path'],
    ['u@[192.0.2.1]', 'ip-literal'],
    ['u@[IPv6:2001:db8::1]', 'ip-literal'],
    ['u@192.0.2.1', 'ip-literal'],
    ['u@0x7f.1', 'ip-literal'],
    ['"u@other.test"@served.test', 'quoted-at'],
    ['"u%other.test"@served.test', 'quoted-percent-hack'],
    ['"other.test!u"@served.test', 'quoted-bang-path'],
    ['u@other.test@served.test', 'multiple-at'],
    ['user', 'no-domain'],
    ['"user"', 'no-domain'],
    ['u@exa mple.test', 'bad-domain'],
    ['u@a..test', 'bad-domain'],
    ['<>', 'malformed'],
  ])('%s is %s', (addr, trick) => {
    expect(addressTrick(addr)).toBe(trick);
  });

  it('accepts plain addresses, quoted ones without tricks, and <Postmaster>', () => {
    for (const ok of ['user@example.test', 'first.last+tag@sub.example.test', '"john smith"@example.test', 'Postmaster', '<postmaster>', '@a.test:u@b.test', 'u@bücher.test']) {
      expect(addressTrick(ok), ok).toBeNull();
    }
  });
});

describe('normalizeDomain', () => {
  it('lower-cases, converts to ASCII (IDNA) and strips the trailing dot', () => {
    expect(normalizeDomain('Example.TEST.')).toBe('example.test');
    expect(normalizeDomain('Bücher.example')).toBe('xn--bcher-kva.example');
    expect(normalizeDomain('Ｅxample。test')).toBe('example.test');
  });

  it('returns null for what is not a host name', () => {
    for (const bad of ['', '.', 'a..b', 'ex ample', '[1.2.3.4]', 'a!b.test', 'a%b.test']) expect(normalizeDomain(bad), bad).toBeNull();
  });
});

describe('isServedDomain', () => {
  const served = ['example.test', 'BÜCHER.test', '.sub.example.test'];

  it('compares case-insensitively after IDNA to-ASCII', () => {
    expect(isServedDomain('EXAMPLE.TEST', served)).toBe(true);
    expect(isServedDomain('example.test.', served)).toBe(true);
    expect(isServedDomain('bücher.test', served)).toBe(true);
    expect(isServedDomain('xn--bcher-kva.test', served)).toBe(true);
  });

  it('does not serve subdomains of a plain entry; a leading-dot entry serves subdomains only', () => {
    expect(isServedDomain('mail.example.test', served)).toBe(false);
    expect(isServedDomain('a.sub.example.test', served)).toBe(true);
    expect(isServedDomain('sub.example.test', served)).toBe(false);
    expect(isServedDomain('evilexample.test', served)).toBe(false);
    expect(isServedDomain('x.b.sub.example.test', ['*.sub.example.test'])).toBe(true);
  });

  it('never serves an IP literal or an invalid name', () => {
    expect(isServedDomain('[127.0.0.1]', ['127.0.0.1'])).toBe(false);
    expect(isServedDomain('127.0.0.1', ['127.0.0.1'])).toBe(false);
    expect(isServedDomain('', served)).toBe(false);
  });
});

describe('nmap smtp-open-relay address list', () => {
  // the RCPT TO forms of smtp-open-relay.nse, with the scanner's target domain
  // `nmap.scanme.org` and our served domain `domain` (the script's srvname), ip the server's
  const target = 'nmap.scanme.org';
  const srv = 'domain';
  const ip = '192.0.2.25';
  const rcpts = [
    `relaytest@${target}`,
    `relaytest%${target}@[${ip}]`,
    `relaytest%${target}@${srv}`,
    `"relaytest@${target}"`,
    `"relaytest%${target}"`,
    `relaytest@${target}@[${ip}]`,
    `"relaytest@${target}"@[${ip}]`,
    `relaytest@${target}@${srv}`,
    `@[${ip}]:relaytest@${target}`,
    `@${srv}:relaytest@${target}`,
    `${target}!relaytest`,
    `${target}!relaytest@[${ip}]`,
    `${target}!relaytest@${srv}`,
    // variants with the served domain on the outside
    `"relaytest%${target}"@${srv}`,
    `"${target}!relaytest"@${srv}`,
    `"relaytest@${target}"@${srv}`,
    `<relaytest%${target}@${srv}>`,
    `@${srv},@[${ip}]:relaytest@${target}`,
  ];

  it.each(rcpts)('%s is not deliverable to a served local user', (rcpt) => {
    expect(judgeRecipient(rcpt, [srv]).kind).not.toBe('local');
  });

  it('still delivers the plain served address, including through a source route', () => {
    expect(judgeRecipient(`relaytest@${srv}`, [srv])).toEqual({ kind: 'local', domain: srv });
    expect(judgeRecipient(`@${target}:relaytest@${srv}`, [srv]).kind).toBe('local');
  });
});
