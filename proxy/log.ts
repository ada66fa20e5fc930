// Logs as an observer of the proxy's events: one structured line per transaction.
import pino, { type Logger } from 'pino';
import type { ProxyEmitter } from './events.ts';

export function createLogger(level: string, destination: number | string = 1): Logger {
  return pino({ level, base: { service: 'attitude' } }, pino.destination({ dest: destination, sync: false }));
}

export function attachLogger(events: ProxyEmitter, log: Logger): void {
  events.on('transaction', (t) => log.info({ msg: 'transaction', ...t }));
  events.on('refusal', (r) => log.info({ msg: 'refused', ...r }));
  events.on('health', (h) => (h.state === 'up' ? log.info({ msg: 'backend up', ...h }) : log.warn({ msg: 'backend down', ...h })));
  events.on('failover', (f) => log.warn({ msg: 'failover', ...f }));
  events.on('warning', (w) => log.warn({ msg: w.message }));
  events.on('client-error', (e) => log.debug({ msg: 'client connection error', ...e }));
  events.on('reload', (r) => (r.ok ? log.info({ msg: 'config reloaded' }) : log.error({ msg: 'config reload refused', problems: r.problems })));
}
