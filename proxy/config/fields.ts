// Zod field types for the units of DESIGN.md, shared by the proxy config and the
// scenario schema, so both files report a bad value the same way.
import { z } from 'zod';
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import { parseBandwidth, parseDuration, parseRate, parseSize } from './units.ts';

/** A field parsed by `parse`; anything it refuses is reported as "expected <expected>, got <value>". */
export function parsedField<T>(parse: (v: unknown) => T | undefined, expected: string) {
  return z.unknown().transform((value, ctx): T => {
    const parsed = parse(value);
    if (parsed === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected ${expected}, got ${JSON.stringify(value)}` });
      return z.NEVER;
    }
    return parsed;
  });
}

export const duration = () => parsedField(parseDuration, 'a duration like 500ms, 5s, 1m or 1h');
export const size = () => parsedField(parseSize, 'a size like 512B, 64KB or 10MB');
export const rate = () => parsedField(parseRate, 'a rate like 60/1m or 5/s');
export const bandwidth = () => parsedField(parseBandwidth, 'a bandwidth like 256KB/s');

/** A rate, or `off`/null for none. */
export const optionalRate = () => z.union([z.literal('off'), z.null(), rate()]).transform((v) => (v === 'off' ? null : v));
export const optionalBandwidth = () =>
  z.union([z.literal('off'), z.null(), bandwidth()]).transform((v) => (v === 'off' ? null : v));

export interface HostPort {
  host: string;
  port: number;
}

export function parseHostPort(input: string): HostPort | undefined {
  const m = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(input.trim());
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port > 65535) return undefined;
  const host = m[1] === '' ? '0.0.0.0' : m[1];
  return { host, port };
}

export const hostPort = () =>
  parsedField((value): HostPort | undefined => {
    const parsed = typeof value === 'number' ? { host: '127.0.0.1', port: value } : typeof value === 'string' ? parseHostPort(value) : undefined;
    return parsed && Number.isInteger(parsed.port) && parsed.port >= 0 && parsed.port <= 65535 ? parsed : undefined;
  }, 'HOST:PORT like 127.0.0.1:2525');

export const cidr = () =>
  z.string().refine((v) => {
    try {
      if (v.includes('/')) ipaddr.parseCIDR(v);
      else if (!net.isIP(v)) return false;
      return true;
    } catch {
      return false;
    }
  }, 'expected an IP address or CIDR like 10.0.0.0/8 or 2001:db8::/32');
