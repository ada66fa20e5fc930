// Zod field types for the units of DESIGN.md, shared by the proxy config and the
// scenario schema, so both files report a bad value the same way.
import { z } from 'zod';
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import {
  BANDWIDTH_SYNTAX,
  DURATION_SYNTAX,
  formatDuration,
  formatRate,
  formatSize,
  parseBandwidth,
  parseDuration,
  parseRate,
  parseSize,
  RATE_SYNTAX,
  SIZE_SYNTAX,
} from './units.ts';
import { editorForms, textOf, type EditorForm, type JsonSchema } from './editor-forms.ts';

const nonNegative: JsonSchema = { type: 'number', minimum: 0 };

/**
 * A field parsed by `parse`; anything it refuses is reported as "expected <expected>, got <value>".
 * `form` tells editors what it accepts; without one they accept anything there (and
 * attitude still says what was expected).
 */
export function parsedField<T>(parse: (v: unknown) => T | undefined, expected: string, form: { json: JsonSchema; show?: (value: T) => unknown } = { json: {} }) {
  const field = z.unknown().transform((value, ctx): T => {
    const parsed = parse(value);
    if (parsed === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected ${expected}, got ${JSON.stringify(value)}` });
      return z.NEVER;
    }
    return parsed;
  });
  editorForms.add(field, { json: { description: expected, ...form.json }, show: form.show } as EditorForm);
  return field;
}

export const duration = () =>
  parsedField(parseDuration, 'a duration like 500ms, 5s, 1m or 1h', { json: { anyOf: [nonNegative, textOf(DURATION_SYNTAX)] }, show: formatDuration });
export const size = () => parsedField(parseSize, 'a size like 512B, 64KB or 10MB', { json: { anyOf: [nonNegative, textOf(SIZE_SYNTAX)] }, show: formatSize });
export const rate = () => parsedField(parseRate, 'a rate like 60/1m or 5/s', { json: textOf(RATE_SYNTAX), show: formatRate });
export const bandwidth = () =>
  parsedField(parseBandwidth, 'a bandwidth like 256KB/s', {
    json: { anyOf: [{ type: 'number', exclusiveMinimum: 0 }, textOf(BANDWIDTH_SYNTAX)] },
    show: (bytes: number) => `${formatSize(bytes)}/s`,
  });

/** A rate, or `off`/null for none. */
export const optionalRate = () => z.union([z.literal('off'), z.null(), rate()]).transform((v) => (v === 'off' ? null : v));
export const optionalBandwidth = () =>
  z.union([z.literal('off'), z.null(), bandwidth()]).transform((v) => (v === 'off' ? null : v));

export interface HostPort {
  host: string;
  port: number;
}

// `host:port`, `[v6]:port`, `:port` (any address)
const HOST_PORT_SYNTAX = '\\[?([^\\]]*?)\\]?:(\\d{1,5})';
const HOST_PORT_RE = new RegExp(`^${HOST_PORT_SYNTAX}$`);

export function parseHostPort(input: string): HostPort | undefined {
  const m = HOST_PORT_RE.exec(input.trim());
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
  }, 'HOST:PORT like 127.0.0.1:2525', {
    json: { anyOf: [{ type: 'integer', minimum: 0, maximum: 65535 }, { type: 'string', pattern: `^\\s*${HOST_PORT_SYNTAX}\\s*$` }] },
    show: ({ host, port }: HostPort) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`),
  });

export const cidr = () => {
  const field = z.string().refine((v) => {
    try {
      if (v.includes('/')) ipaddr.parseCIDR(v);
      else if (!net.isIP(v)) return false;
      return true;
    } catch {
      return false;
    }
  }, 'expected an IP address or CIDR like 10.0.0.0/8 or 2001:db8::/32');
  editorForms.add(field, { json: { description: 'an IP address or CIDR like 10.0.0.0/8 or 2001:db8::/32' } });
  return field;
};
