// HAProxy PROXY protocol headers (v1 text, v2 binary) so a backend that expects them
// (Postfix `smtpd_upstream_proxy_protocol = haproxy`) sees the real client address.
import net from 'node:net';
import ipaddr from 'ipaddr.js';

export interface Endpoints {
  ip: string;
  port: number;
  localIp: string;
  localPort: number;
}

export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

function unmap(ip: string): string {
  return ip.startsWith('::ffff:') && net.isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
}

export function proxyHeader(version: 'v1' | 'v2', e: Endpoints): Buffer {
  const src = unmap(e.ip);
  let dst = unmap(e.localIp);
  const family = net.isIPv4(src) ? 4 : 6;
  // both ends must be of one family; a v4 client on a v6 listener is shown mapped
  if (family === 4 && !net.isIPv4(dst)) dst = '0.0.0.0';
  if (family === 6 && !net.isIPv6(dst)) dst = '::';
  if (version === 'v1') {
    return Buffer.from(`PROXY TCP${family} ${src} ${dst} ${e.port} ${e.localPort}\r\n`, 'latin1');
  }
  const size = family === 4 ? 4 : 16;
  const header = Buffer.alloc(16 + 2 * size + 4);
  V2_SIGNATURE.copy(header, 0);
  header[12] = 0x21; // version 2, PROXY command
  header[13] = family === 4 ? 0x11 : 0x21; // AF_INET/AF_INET6 over STREAM
  header.writeUInt16BE(2 * size + 4, 14);
  bytesOf(src).copy(header, 16);
  bytesOf(dst).copy(header, 16 + size);
  header.writeUInt16BE(e.port, 16 + 2 * size);
  header.writeUInt16BE(e.localPort, 18 + 2 * size);
  return header;
}

function bytesOf(ip: string): Buffer {
  return Buffer.from(ipaddr.parse(ip).toByteArray());
}
