// Real client addresses into the lab's 127.0.0.0/8, one /24 per real network (IPv4
// /24, IPv6 /48, the proxy's default networkPrefix), so per-network limits meet the same
// groups of clients. A network's place comes from a hash of it, so the same network
// lands on the same 127.x.y.0/24 in every import (unless two collide, then the next
// free one); the last octet of an IPv4 address stays as it was.
import { createHash } from 'node:crypto';
import net from 'node:net';
import ipaddr from 'ipaddr.js';

/** A log the lab cannot replay (the user's input, not a bug): `attitude import` says why and exits 104. */
export class UnreplayableLog extends Error {}

/** 127.10.0.0 to 127.255.255.0: the /24s the lab has. */
const FIRST = 10;
const SLOTS = (256 - FIRST) * 256;

export function networkOf(address: string): string {
  if (net.isIPv4(address)) return address.split('.').slice(0, 3).join('.') + '.0/24';
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) return networkOf((parsed as ipaddr.IPv6).toIPv4Address().toString());
  const parts = (parsed as ipaddr.IPv6).parts;
  return `${parts.slice(0, 3).map((p) => p.toString(16)).join(':')}::/48`;
}

function slotOf(network: string): number {
  return createHash('sha256').update(network).digest().readUInt32BE(0) % SLOTS;
}

export interface AddressMap {
  /** real address -> 127.x.y.z */
  address: Map<string, string>;
  /** real network -> 127.x.y.0/24 */
  network: Map<string, string>;
}

export function mapAddresses(addresses: readonly string[]): AddressMap {
  const networks = [...new Set(addresses.map(networkOf))].sort();
  if (networks.length > SLOTS) throw new UnreplayableLog(`${networks.length} networks: the lab has room for ${SLOTS}`);
  const taken = new Set<number>();
  const network = new Map<string, string>();
  const base = new Map<string, [number, number]>();
  for (const n of networks) {
    let slot = slotOf(n);
    while (taken.has(slot)) slot = (slot + 1) % SLOTS;
    taken.add(slot);
    const [b, c] = [FIRST + Math.floor(slot / 256), slot % 256];
    base.set(n, [b, c]);
    network.set(n, `127.${b}.${c}.0/24`);
  }
  const address = new Map<string, string>();
  const hostsUsed = new Map<string, Set<number>>();
  // IPv4 keeps its last octet; IPv6 addresses of a /48 take the next free host numbers
  const sorted = [...new Set(addresses)].sort((a, b) => Number(net.isIPv6(a)) - Number(net.isIPv6(b)) || a.localeCompare(b));
  for (const a of sorted) {
    const n = networkOf(a);
    const [b, c] = base.get(n)!;
    const used = hostsUsed.get(n) ?? new Set<number>();
    hostsUsed.set(n, used);
    let host = net.isIPv4(a) ? Number(a.split('.')[3]) : mappedV4(a) ?? 1;
    while (used.has(host)) host = (host % 255) + 1;
    used.add(host);
    address.set(a, `127.${b}.${c}.${host}`);
  }
  return { address, network };
}

function mappedV4(address: string): number | null {
  const parsed = ipaddr.parse(address) as ipaddr.IPv6;
  return parsed.isIPv4MappedAddress() ? parsed.toIPv4Address().octets[3] : null;
}
