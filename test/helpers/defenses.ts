// Tools for the defense integration tests: client addresses, /metrics, reply
// recording, timing, and byte-exact message building.
import { createHash } from 'node:crypto';
import http from 'node:http';
import { RawClient, type RawReply } from './raw-smtp.ts';
import { proxyFor } from './proxy.ts';
import type { Proxy, ProxyOptions } from '../../proxy/proxy.ts';
import type { CounterStore } from '../../proxy/store/store.ts';
import type { MemoryStore } from '../../proxy/store/memory-store.ts';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** Client address number `i` (0-based) of a block: 127.<block>.<hi>.<lo>, never .0 or .255. */
export function addr(block: number, i = 0): string {
  return `127.${block}.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

/** GET a path on the proxy's admin endpoint. */
export function adminGet(proxy: Proxy, path: string): Promise<{ status: number; body: string }> {
  const a = proxy.adminAddress;
  if (!a) throw new Error('the proxy has no admin endpoint');
  return new Promise((resolve, reject) => {
    http
      .get({ host: a.host, port: a.port, path }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

/** Sum of the samples of `name` whose labels include `labels` (0 when none). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) got[l[1]] = l[2];
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

export async function refusals(proxy: Proxy, reason: string, extra: Record<string, string> = {}): Promise<number> {
  const { body } = await adminGet(proxy, '/metrics');
  return metricValue(body, 'attitude_refusals_total', { reason, ...extra });
}

/** Connects from `local` and reads the banner. */
export async function greeted(port: number, local?: string, timeoutMs = 5000): Promise<{ c: RawClient; banner: RawReply | null }> {
  const c = await RawClient.connect(port, local);
  const banner = await c.read(timeoutMs);
  return { c, banner };
}

/** Every reply line a socket receives, raw, for well-formedness checks. */
export function recordLines(c: RawClient): { lines: () => string[] } {
  let buffer = '';
  const lines: string[] = [];
  c.socket.on('data', (d: Buffer) => {
    buffer += d.toString('latin1');
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      lines.push(buffer.slice(0, nl).replace(/\r$/, ''));
      buffer = buffer.slice(nl + 1);
    }
  });
  return { lines: () => (buffer ? [...lines, buffer] : [...lines]) };
}

/** Runs `fn` and returns how long it took, in ms. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

/** EHLO, MAIL, RCPTs and DATA up to the 354; returns the replies (stops at the first that is not as expected). */
export async function openData(c: RawClient, from: string, to: string[], helo = 'client.test'): Promise<RawReply[]> {
  const out: RawReply[] = [];
  const step = async (line: string, ok: (code: number) => boolean) => {
    const r = await c.cmd(line);
    out.push(r ?? { code: 0, text: 'closed' });
    return !!r && ok(r.code);
  };
  if (!(await step(`EHLO ${helo}`, (x) => x === 250))) return out;
  if (!(await step(`MAIL FROM:<${from}>`, (x) => x === 250))) return out;
  for (const r of to) await step(`RCPT TO:<${r}>`, (x) => x === 250);
  await step('DATA', (x) => x === 354);
  return out;
}

/** A message of about `bytes` bytes: headers, then CRLF lines of printable text (no leading dots). */
export function bigMessage(id: string, bytes: number, seed = 1): Buffer {
  const head =
    `From: a@sender.test\r\nTo: b@example.test\r\nSubject: big ${id}\r\nDate: ${new Date().toUTCString()}\r\n` +
    `Message-ID: <${id}@sender.test>\r\nX-Attitude-Id: ${id}\r\n\r\n`;
  const lines: string[] = [];
  let n = head.length;
  let x = seed;
  while (n < bytes) {
    let line = '';
    for (let i = 0; i < 76; i++) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      line += String.fromCharCode(0x41 + (x % 26));
    }
    lines.push(line);
    n += 78;
  }
  return Buffer.from(head + lines.join('\r\n') + '\r\n', 'latin1');
}

/** The bytes of `sent` as the backend should have them: its last sent.length bytes (the proxy only prepends headers). */
export function tailOf(raw: Buffer, length: number): Buffer {
  return raw.subarray(Math.max(0, raw.length - length));
}

/** Waits until `cond` holds (polling), or the timeout passes; returns whether it held. */
export async function until(cond: () => boolean, timeoutMs = 3000, everyMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await sleep(everyMs);
  }
  return true;
}

/**
 * Everything the proxy holds for clients is given back: sessions, slots (in `store`,
 * when the test injected one), transactions, backend leases (busy ones and those in
 * the middle of closing), the hold-back budget.
 */
export function drained(p: Proxy, store?: MemoryStore): boolean {
  const s = p.state();
  return (
    s.connections.active === 0 &&
    s.connections.sessions === 0 &&
    s.connections.slots === 0 &&
    s.transactions.inFlight === 0 &&
    s.transactions.heldBackBytes === 0 &&
    (store?.heldSlots ?? 0) === 0 &&
    s.backends.every((b) => b.active === 0 && b.open === b.idle)
  );
}

/** A backend that is not a MockBackend (a scripted one, smtp-sink) in the shape proxyFor reads: name and address. */
export function asBackend<T>(name: string, address: string): T {
  return { name, address } as unknown as T;
}

/** proxyFor's loose defaults, with ProxyOptions (an injected store, ...). */
export function proxyWithOptions(mocks: Array<{ name: string; address: string }>, overrides: Record<string, unknown>, options: ProxyOptions): Promise<Proxy> {
  return proxyFor(mocks, overrides, [], options);
}

/** A counter store that answers `delayMs` late, as a remote (Redis) store does. */
export function slowStore(inner: CounterStore, delayMs: number): CounterStore {
  const later = <T>(p: Promise<T>) => p.then((v) => sleep(delayMs).then(() => v));
  return {
    hit: (key, limit, windowMs, cost) => later(inner.hit(key, limit, windowMs, cost)),
    acquire: (key, limit) => later(inner.acquire(key, limit)),
    release: (key) => inner.release(key),
    current: (key) => inner.current(key),
    remember: (key, value, ttl) => later(inner.remember(key, value, ttl)),
    increment: (key, ttl) => later(inner.increment(key, ttl)),
    count: (key) => later(inner.count(key)),
    close: () => inner.close(),
  };
}
