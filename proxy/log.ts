// Logs as an observer of the proxy's events: one structured line per transaction.
import pino, { type Logger } from 'pino';
import type { ProxyEmitter } from './events.ts';

/** How long a log line may wait in the buffer before it is written. */
const LOG_FLUSH_MS = 200;

/**
 * Lines are gathered up to 4 KB and written together, at the latest LOG_FLUSH_MS
 * later: a write per transaction line was 8 % of the proxy's CPU on kept sessions.
 * pino writes what is left when the process exits.
 */
export function createLogger(level: string, destination: number | string = 1): Logger {
  const dest = pino.destination({ dest: destination, sync: false, minLength: 4096 });
  let pending = false;
  setInterval(() => {
    if (!pending) return;
    pending = false;
    dest.flush();
  }, LOG_FLUSH_MS).unref();
  const hooks = {
    streamWrite: (line: string) => {
      pending = true;
      return line;
    },
  };
  return pino({ level, base: { service: 'attitude' }, hooks }, dest);
}

export function attachLogger(events: ProxyEmitter, log: Logger): void {
  events.on('transaction', (t) => log.info({ msg: 'transaction', ...t }));
  events.on('refusal', (r) => log.info({ msg: 'refused', ...r }));
  events.on('health', (h) => (h.state === 'up' ? log.info({ msg: 'backend up', ...h }) : log.warn({ msg: 'backend down', ...h })));
  events.on('failover', (f) => log.warn({ msg: 'failover', ...f }));
  events.on('stress', (e) => (e.active ? log.warn({ msg: 'stress mode on: shorter timeouts, the idlest sessions shed at the cap', ...e }) : log.info({ msg: 'stress mode off', ...e })));
  events.on('warning', (w) => log.warn({ msg: w.message }));
  events.on('client-error', (e) => log.debug({ msg: 'client connection error', ...e }));
  events.on('reload', (r) => (r.ok ? log.info({ msg: 'config reloaded' }) : log.error({ msg: 'config reload refused', problems: r.problems })));
}
