import { describe, expect, it } from 'vitest';
import { CidrList, clientKey, parseIp } from '../../proxy/policy/cidr.ts';

describe('CidrList', () => {
  const list = new CidrList(['10.0.0.0/8', '192.0.2.7', '2001:db8::/32', '::1']);

  it('matches IPv4 CIDRs and single addresses', () => {
    expect(list.matches('10.1.2.3')).toBe(true);
    expect(list.matches('11.0.0.1')).toBe(false);
    expect(list.matches('192.0.2.7')).toBe(true);
    expect(list.matches('192.0.2.8')).toBe(false);
  });

  it('matches IPv6 CIDRs and single addresses', () => {
    expect(list.matches('2001:db8:1::5')).toBe(true);
    expect(list.matches('2001:db9::1')).toBe(false);
    expect(list.matches('::1')).toBe(true);
    expect(list.matches('0:0:0:0:0:0:0:1')).toBe(true);
  });

  it('matches IPv4-mapped IPv6 clients against IPv4 entries', () => {
    expect(list.matches('::ffff:10.9.8.7')).toBe(true);
    expect(list.matches('::ffff:192.0.2.7')).toBe(true);
    expect(list.matches('::FFFF:11.0.0.1')).toBe(false);
  });

  it('accepts IPv4-mapped entries and counts their prefix in IPv6 bits', () => {
    const mapped = new CidrList(['::ffff:172.16.0.0/108', '::ffff:198.51.100.1']);
    expect(mapped.matches('172.16.200.1')).toBe(true);
    expect(mapped.matches('172.32.0.1')).toBe(false);
    expect(mapped.matches('198.51.100.1')).toBe(true);
  });

  it('keeps address families apart', () => {
    expect(new CidrList(['0.0.0.0/0']).matches('2001:db8::1')).toBe(false);
    expect(new CidrList(['::/0']).matches('1.2.3.4')).toBe(false);
    expect(new CidrList(['::/0']).matches('::ffff:1.2.3.4')).toBe(false);
  });

  it('does not match garbage, classful shorthands or an empty list', () => {
    expect(list.matches('not-an-ip')).toBe(false);
    expect(list.matches('10.1')).toBe(false);
    expect(list.matches('')).toBe(false);
    expect(new CidrList([]).matches('10.0.0.1')).toBe(false);
  });

  it('ignores a zone id on the client address', () => {
    expect(new CidrList(['fe80::/10']).matches('fe80::1%eth0')).toBe(true);
  });

  it('throws on a bad entry, naming it', () => {
    for (const bad of ['10.0.0.0/33', '10.0.0/8', 'example.test', '::/129', '1.2.3.4/8/1', '1.2.3.4/x']) {
      expect(() => new CidrList([bad]), bad).toThrow(bad);
    }
  });
});

describe('clientKey', () => {
  it('is the address for IPv4 (mapped or not) and the /64 for IPv6', () => {
    expect(clientKey('192.0.2.1')).toBe('192.0.2.1');
    expect(clientKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(clientKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8:1:2:bbbb::9')).toBe(clientKey('2001:db8:1:2:aaaa::1'));
    expect(clientKey('2001:db8:1:3::1')).not.toBe(clientKey('2001:db8:1:2::1'));
  });

  it('parseIp refuses what is not an address', () => {
    expect(parseIp('1.2.3')).toBeNull();
    expect(parseIp('[::1]')?.toString()).toBe('::1');
  });
});
