// Reading a HAProxy PROXY protocol header (v1 text or v2 binary) from a trusted
// peer, so the limits judge the real client rather than the load balancer in front.
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import { V2_SIGNATURE } from '../relay/proxy-protocol.ts';

/** v1 lines are at most 107 bytes; v2 with TLVs is bounded here */
const MAX_HEADER = 536;

export type ProxyHeader = { ip: string; port: number } | { local: true };

export class ProxyHeaderError extends Error {}

/** Parses a complete header at the start of `buf`; null when more bytes are needed. */
export function parseProxyHeader(buf: Buffer): { header: ProxyHeader; length: number } | null {
  const head = buf.subarray(0, 12);
  if (V2_SIGNATURE.subarray(0, head.length).equals(head)) return buf.length >= 12 ? parseV2(buf) : null;
  if (!'PROXY '.startsWith(buf.toString('latin1', 0, Math.min(6, buf.length)))) throw new ProxyHeaderError('no PROXY protocol header');
  const end = buf.indexOf('\r\n');
  if (end < 0) {
    if (buf.length > 107) throw new ProxyHeaderError('PROXY v1 line too long');
    return null;
  }
  const parts = buf.toString('latin1', 0, end).split(' ');
  if (parts[0] !== 'PROXY') throw new ProxyHeaderError('no PROXY protocol header');
  if (parts[1] === 'UNKNOWN') return { header: { local: true }, length: end + 2 };
  if ((parts[1] !== 'TCP4' && parts[1] !== 'TCP6') || parts.length !== 6) throw new ProxyHeaderError('malformed PROXY v1 line');
  const ip = parts[2];
  const port = Number(parts[4]);
  if (net.isIP(ip) !== (parts[1] === 'TCP4' ? 4 : 6) || !(port >= 0 && port <= 65535)) throw new ProxyHeaderError('malformed PROXY v1 addresses');
  return { header: { ip, port }, length: end + 2 };
}

function parseV2(buf: Buffer): { header: ProxyHeader; length: number } | null {
  if (buf.length < 16) return null;
  const versionCommand = buf[12];
  if (versionCommand >> 4 !== 2) throw new ProxyHeaderError('unsupported PROXY protocol version');
  const length = 16 + buf.readUInt16BE(14);
  if (length > MAX_HEADER) throw new ProxyHeaderError('PROXY v2 header too long');
  if (buf.length < length) return null;
  // LOCAL command (health checks of the balancer itself): the peer is the client
  if ((versionCommand & 0x0f) === 0) return { header: { local: true }, length };
  const family = buf[13] >> 4;
  if (family === 1 && length >= 16 + 12) return { header: { ip: addressAt(buf, 16, 4), port: buf.readUInt16BE(24) }, length };
  if (family === 2 && length >= 16 + 36) return { header: { ip: addressAt(buf, 16, 16), port: buf.readUInt16BE(48) }, length };
  return { header: { local: true }, length };
}

function addressAt(buf: Buffer, offset: number, size: 4 | 16): string {
  return ipaddr.fromByteArray([...buf.subarray(offset, offset + size)]).toString();
}

/** Reads the header off a socket; the bytes after it are put back for the SMTP session. */
export function readProxyHeader(socket: net.Socket, timeoutMs: number): Promise<ProxyHeader> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const done = (err: Error | null, header?: ProxyHeader, rest?: Buffer) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
      if (rest?.length) socket.unshift(rest);
      if (err) reject(err);
      else resolve(header!);
    };
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      try {
        const parsed = parseProxyHeader(buf);
        if (parsed) done(null, parsed.header, buf.subarray(parsed.length));
        else if (buf.length > MAX_HEADER) done(new ProxyHeaderError('PROXY header too long'));
      } catch (err) {
        done(err as Error);
      }
    };
    const onClose = () => done(new ProxyHeaderError('closed before the PROXY header'));
    const timer = setTimeout(() => done(new ProxyHeaderError('no PROXY header in time')), timeoutMs);
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}
