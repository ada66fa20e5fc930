// Before any actor starts, an external target must answer like an SMTP server: a
// `220` banner within the bound. A dead or misconfigured target then fails in
// seconds with one line that names it, instead of a whole run of refused
// connections reported as if they were defenses.
import type { HostPort } from '../proxy/config/fields.ts';
import { ConnectError, SmtpConnection } from './smtp/connection.ts';

export const PREFLIGHT_MS = 5000;
/** between tries: a target that is still starting gets several chances within the bound */
const RETRY_MS = 250;

export class TargetUnreachable extends Error {
  constructor(
    readonly target: HostPort,
    readonly why: string,
    readonly withinMs: number,
  ) {
    super(`the target ${target.host}:${target.port} did not answer 220 within ${withinMs / 1000}s (${why})`);
  }
}

/** The 220's text, or why the try failed. */
async function tryBanner(target: HostPort, timeoutMs: number, signal?: AbortSignal): Promise<{ banner: string } | { failed: string }> {
  let conn: SmtpConnection;
  try {
    conn = await SmtpConnection.open({ host: target.host, port: target.port, timeoutMs, signal });
  } catch (err) {
    const code = (err as ConnectError).code;
    return { failed: code === 'ECONNREFUSED' ? 'connection refused' : code === 'ETIMEDOUT' ? 'connect timed out' : (err as Error).message };
  }
  const banner = await conn.read(timeoutMs);
  if (banner?.code === 220) {
    await conn.quit();
    return { banner: banner.text.split('\n')[0].slice(0, 200) };
  }
  conn.destroy();
  if (!banner) return { failed: conn.timedOut ? 'no banner' : 'closed before the banner' };
  return { failed: `banner ${banner.code} ${banner.text.split('\n')[0].slice(0, 80)}` };
}

/** Tries until a 220 comes (its text is returned) or `withinMs` ran out: TargetUnreachable with the last reason. */
export async function awaitBanner(target: HostPort, o: { withinMs?: number; signal?: AbortSignal } = {}): Promise<string> {
  const withinMs = o.withinMs ?? PREFLIGHT_MS;
  const deadline = performance.now() + withinMs;
  let why = 'no answer';
  for (let tries = 0; tries < Math.ceil(withinMs / RETRY_MS) + 1 && !o.signal?.aborted; tries++) {
    const left = deadline - performance.now();
    if (left <= 0) break;
    const answer = await tryBanner(target, left, o.signal);
    if ('banner' in answer) return answer.banner;
    why = answer.failed;
    const wait = Math.min(RETRY_MS, deadline - performance.now());
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  if (o.signal?.aborted) return '';
  throw new TargetUnreachable(target, why, withinMs);
}
