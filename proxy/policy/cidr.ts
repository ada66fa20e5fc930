// Client address lists (relay.clients, connections.allow/deny). An IPv4 client that
// reaches a dual-stack listener shows up as `::ffff:1.2.3.4`; it must match the IPv4
// entries, or a deny list could be walked around just by connecting over IPv6.
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import { memoize } from './memo.ts';

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** Parses an address the way a socket reports it: IPv4-mapped IPv6 becomes IPv4, a zone id is dropped. */
export function parseIp(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const bare = ip.trim().replace(/%.*$/, '').replace(/^\[(.*)\]$/, '$1');
  // net.isIP refuses the classful forms (`10.1`) ipaddr.js would accept
  if (!net.isIP(bare)) return null;
  return ipaddr.process(bare);
}

export class CidrList {
  private readonly ranges: Range[] = [];

  /** @throws Error naming the first entry that is neither an address nor a CIDR */
  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const range = parseEntry(entry);
      if (!range) throw new Error(`not an IP address or CIDR: ${JSON.stringify(entry)}`);
      this.ranges.push(range);
    }
  }

  get size(): number {
    return this.ranges.length;
  }

  /** Asked at every connection and every RCPT, mostly for the same few clients: parsed once per address. */
  readonly matches = memoize((ip: string): boolean => {
    if (this.ranges.length === 0) return false;
    const addr = parseIp(ip);
    if (!addr) return false;
    return this.ranges.some(([net, bits]) => addr.kind() === net.kind() && addr.match(net as never, bits));
  });
}

function parseEntry(entry: string): Range | null {
  const [host, bitsText, extra] = entry.trim().split('/');
  if (extra !== undefined) return null;
  const addr = parseIp(host);
  if (!addr) return null;
  const max = addr.kind() === 'ipv4' ? 32 : 128;
  let bits = max;
  if (bitsText !== undefined) {
    if (!/^\d{1,3}$/.test(bitsText)) return null;
    bits = Number(bitsText);
    // parseIp turned `::ffff:a.b.c.d` into IPv4, so a mapped CIDR's prefix counts the 96 mapping bits
    if (addr.kind() === 'ipv4' && host.includes(':')) bits -= 96;
  }
  if (bits < 0 || bits > max) return null;
  return [addr, bits];
}

/**
 * The key a client's limits are counted under: the address itself for IPv4, the /64
 * for IPv6, because one host usually holds a whole /64 and could otherwise step
 * around every per-client limit by changing its address.
 */
export const clientKey = memoize((ip: string): string => {
  const addr = parseIp(ip);
  if (!addr) return ip;
  if (addr.kind() === 'ipv4') return addr.toString();
  const parts = (addr as ipaddr.IPv6).parts.slice(0, 4).map((p) => p.toString(16));
  return `${parts.join(':')}::/64`;
});

/** The network a client is counted in for the per-network limits: its /24 (IPv4) or /48 (IPv6) by default. */
export function networkKey(ip: string, prefix: { v4: number; v6: number }): string {
  return networkOf(`${prefix.v4} ${prefix.v6} ${ip}`);
}

const networkOf = memoize((key: string): string => {
  const [v4, v6, ip] = key.split(' ');
  const addr = parseIp(ip);
  if (!addr) return ip;
  const bits = Number(addr.kind() === 'ipv4' ? v4 : v6);
  const bytes = addr.toByteArray();
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    bytes[i] &= (0xff << (8 - keep)) & 0xff;
  }
  return `${ipaddr.fromByteArray(bytes).toString()}/${bits}`;
});

// Config arrays are replaced, never mutated, on reload: parse each list once.
const lists = new WeakMap<readonly string[], CidrList>();

/** The parsed list for a config array, parsed once per array. */
export function cidrList(entries: readonly string[]): CidrList {
  let list = lists.get(entries);
  if (!list) lists.set(entries, (list = new CidrList(entries)));
  return list;
}
