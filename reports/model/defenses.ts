// Which defenses fired and how much they did: refusals per reason (from the
// proxy's own refusal events when the proxy runs in-process, else from the
// replies the senders got, classed by reply-class.ts) and the bytes the bandwidth
// throttle held back; and, apart, what was no defense: the mail servers
// struggling, and connections that ended without any SMTP reply.
import type { SimEvent } from '../../simulator/events.ts';

export interface DefenseLine {
  reason: string;
  code: number | null;
  enhanced: string | null;
  /** the SMTP step it refused at */
  stage: string;
  count: number;
}

export interface DefenseTally {
  /** 'proxy': the proxy's refusal events; 'senders': replies as the senders saw them (external targets) */
  source: 'proxy' | 'senders';
  refusals: DefenseLine[];
  /** refusals that are trouble, not defense (no backend, backend failed, shutting down) */
  trouble: DefenseLine[];
  /**
   * connections that got no SMTP reply at all, as the senders saw them (refused,
   * reset, closed before the banner): infrastructure, whatever the source
   */
  failures: DefenseLine[];
  throttle: { bytes: number; waitMs: number; peakClients: number; samples: number };
  /** stress mode (in-process proxies): how often it began, and for how long it lasted in all */
  stress: { episodes: number; activeMs: number };
}

/** Reasons that mean the mail system struggled rather than a defense firing (the proxy's, and other servers' classes). */
const TROUBLE = new Set(['no-backend', 'backend-failed', 'backend-timeout', 'backend-reply', 'shutting-down', 'limits-unavailable', 'temporary-failure', 'local-error', 'mail-system', 'mail-system-full', 'not-accepting-mail', 'insufficient-storage']);

/** What a connection without any reply means, in words that fit any target. */
const FAILURE_MEANS: Record<string, string> = {
  'connection-refused': 'nothing listened: the target was down or not yet started',
  'connect-timeout': 'no TCP answer in time',
  'connect-failed': 'reset while connecting: a TCP-level limit (HAProxy tcp-request reject) or a target in trouble',
  'closed-before-banner': 'closed before any banner: a target with no mail server up (a cold start), or a TCP-level limit that speaks no SMTP',
  'banner-timeout': 'no banner in time: a target waiting on its mail servers',
};

export class DefenseCounter {
  private proxy = new Map<string, DefenseLine>();
  private senders = new Map<string, DefenseLine>();
  private failures = new Map<string, DefenseLine>();
  private throttle = { bytes: 0, waitMs: 0, peakClients: 0, samples: 0 };
  /** the proxy reports its refusals to the simulator (in-process; an external one only has /state) */
  private proxySpeaks = false;
  private stress = { episodes: 0, activeMs: 0 };
  /** when stress mode began, per proxy instance (null: off) */
  private stressSince = new Map<number, number>();
  private lastT = 0;

  private count(map: Map<string, DefenseLine>, reason: string, code: number | null, enhanced: string | null, stage: string): void {
    const line = map.get(reason);
    if (line) line.count++;
    else map.set(reason, { reason, code, enhanced, stage, count: 1 });
  }

  consume(e: SimEvent): void {
    if (e.type === 'throttle' || (e.type === 'proxy.event' && e.instance >= 0)) this.proxySpeaks = true;
    this.lastT = Math.max(this.lastT, e.t);
    switch (e.type) {
      case 'proxy.event': {
        if (e.name === 'stress') {
          const on = !!(e.data as { active?: boolean } | null)?.active;
          const since = this.stressSince.get(e.instance);
          if (on && since === undefined) {
            this.stress.episodes++;
            this.stressSince.set(e.instance, e.t);
          } else if (!on && since !== undefined) {
            this.stress.activeMs += e.t - since;
            this.stressSince.delete(e.instance);
          }
          break;
        }
        if (e.name !== 'refusal') break;
        const d = (e.data ?? {}) as { reason?: string; code?: number; enhanced?: string; stage?: string };
        this.count(this.proxy, d.reason ?? String(d.code ?? '?'), d.code ?? null, d.enhanced ?? null, d.stage ?? '?');
        break;
      }
      case 'reply':
        if (e.code !== null && e.code >= 400) this.count(this.senders, e.reason ?? String(e.code), e.code, e.enhanced, e.stage === 'banner' ? 'connect' : e.stage);
        break;
      case 'conn.refused':
        if (e.code === null) this.count(this.failures, e.reason ?? 'no-reply', null, null, 'connect');
        break;
      case 'throttle':
        this.throttle.bytes += e.bytes;
        this.throttle.waitMs += e.waitMs;
        this.throttle.peakClients = Math.max(this.throttle.peakClients, e.clients);
        this.throttle.samples++;
        break;
      default:
        break;
    }
  }

  result(): DefenseTally {
    const source = this.proxySpeaks ? 'proxy' : 'senders';
    const lines = [...(source === 'proxy' ? this.proxy : this.senders).values()].map((l) => ({ ...l })).sort((a, b) => b.count - a.count);
    return {
      source,
      refusals: lines.filter((l) => !TROUBLE.has(l.reason)),
      trouble: lines.filter((l) => TROUBLE.has(l.reason)),
      failures: [...this.failures.values()].map((l) => ({ ...l })).sort((a, b) => b.count - a.count),
      throttle: { ...this.throttle },
      // a stress episode still going at the end counts up to the last event
      stress: { episodes: this.stress.episodes, activeMs: this.stress.activeMs + [...this.stressSince.values()].reduce((n, since) => n + this.lastT - since, 0) },
    };
  }
}

const UNIT: Record<string, [string, string]> = {
  connect: ['connection', 'connections'],
  mail: ['message', 'messages'],
  rcpt: ['recipient', 'recipients'],
  data: ['message', 'messages'],
  dot: ['message', 'messages'],
};

/** "refused 300 connections", "refused 41 recipients" */
export function refusedWhat(line: DefenseLine): string {
  const [one, many] = UNIT[line.stage] ?? ['command', 'commands'];
  return `refused ${line.count} ${line.count === 1 ? one : many}`;
}

/** "on 1 time, 26.0 s in all": the DEFENSES line of stress mode, null when it never began. */
export function stressText(d: DefenseTally): string | null {
  const s = d.stress;
  if (!s.episodes) return null;
  return `on ${s.episodes} time${s.episodes === 1 ? '' : 's'}, ${(s.activeMs / 1000).toFixed(1)}s in all: shorter timeouts, the idlest sessions shed at the cap`;
}

export interface TallyRow {
  name: string;
  /** `421 4.7.0`, `no reply`, or empty (the throttle, stress mode) */
  reply: string;
  what: string;
}

const replyOf = (l: DefenseLine) => (l.code === null ? 'no reply' : `${l.code}${l.enhanced ? ` ${l.enhanced}` : ''}`);

/** The rows every report shows: the defenses that fired, then what was no defense (infrastructure). */
export function tallyRows(d: DefenseTally): { defenses: TallyRow[]; infrastructure: TallyRow[] } {
  const defenses: TallyRow[] = d.refusals.map((r) => ({ name: r.reason, reply: replyOf(r), what: refusedWhat(r) }));
  const stress = stressText(d);
  if (stress) defenses.push({ name: 'stress mode', reply: '', what: stress });
  const t = d.throttle;
  if (t.bytes) defenses.push({ name: 'bandwidth throttle', reply: '', what: `throttled ${formatBytes(t.bytes)} (held ${(t.waitMs / 1000).toFixed(1)}s in all, up to ${t.peakClients} client${t.peakClients === 1 ? '' : 's'} at once)` });
  const infrastructure: TallyRow[] = [
    ...d.trouble.map((r) => ({ name: r.reason, reply: replyOf(r), what: `${refusedWhat(r)}: the mail servers struggled` })),
    ...d.failures.map((r) => ({ name: r.reason, reply: 'no reply', what: `${r.count} connection${r.count === 1 ? '' : 's'}: ${FAILURE_MEANS[r.reason] ?? 'ended without a reply'}` })),
  ];
  return { defenses, infrastructure };
}

/** What the DEFENSES heading says about where the refusals were counted. */
export function tallySource(d: DefenseTally): string {
  return d.source === 'proxy' ? "the proxy's own refusals" : 'as the senders saw the replies, classed by code, enhanced code and text';
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${n} B`;
}
