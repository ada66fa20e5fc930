// The notable events of a run, as short lines: refusals with their reply code and
// reason, backends going down and up, failovers, marks, phases. A flood refuses
// hundreds of connections a second, so identical lines within a second become
// one line with a count instead of scrolling everything else away.
import type { SimEvent } from '../../simulator/events.ts';

export type LogKind = 'refusal' | 'backend' | 'failover' | 'stress' | 'mark' | 'phase' | 'warning';

export interface LogEntry {
  t: number;
  kind: LogKind;
  text: string;
  count: number;
}

const MERGE_MS = 1000;

export class EventLog {
  readonly entries: LogEntry[] = [];
  /** bumped on every change, so a renderer knows when to redraw */
  version = 0;
  private open = new Map<string, LogEntry>();

  constructor(private readonly keep = 300) {}

  add(t: number, kind: LogKind, text: string): void {
    const key = `${kind}\u0000${text}`;
    const same = this.open.get(key);
    this.version++;
    if (same && t - same.t < MERGE_MS) {
      same.count++;
      return;
    }
    const entry = { t, kind, text, count: 1 };
    this.open.set(key, entry);
    this.entries.push(entry);
    if (this.entries.length > this.keep) {
      const dropped = this.entries.shift()!;
      if (this.open.get(`${dropped.kind}\u0000${dropped.text}`) === dropped) this.open.delete(`${dropped.kind}\u0000${dropped.text}`);
    }
  }

  consume(e: SimEvent): void {
    switch (e.type) {
      case 'reply':
        if (e.code !== null && e.code >= 400) this.add(e.t, 'refusal', `${e.actor}: ${e.stage} ${e.code}${e.enhanced ? ` ${e.enhanced}` : ''} ${e.reason ?? shortText(e.text)}`);
        break;
      case 'conn.refused':
        if (e.code === null) this.add(e.t, 'refusal', `${e.actor}: connect ${e.reason ?? 'no reply'}`);
        break;
      case 'backend.outage':
        this.add(e.t, 'backend', `backend ${e.backend} ${e.state === 'down' ? 'goes down' : 'comes back'}`);
        break;
      case 'proxy.event': {
        const data = (e.data ?? {}) as Record<string, unknown>;
        if (e.name === 'health') this.add(e.t, 'backend', `proxy marks ${data.backend} ${data.state}${data.why ? ` (${shortText(String(data.why))})` : ''}`);
        else if (e.name === 'failover') this.add(e.t, 'failover', `failover away from ${data.backend}`);
        else if (e.name === 'stress') {
          this.add(e.t, 'stress', data.active ? `stress mode ON at ${data.connections}/${data.max} connections: shorter timeouts, idlest shed at the cap` : `stress mode off (${data.connections}/${data.max})`);
        }
        else if (e.name === 'warning') this.add(e.t, 'warning', `proxy warning: ${shortText(String(data.message ?? ''))}`);
        else if (e.name === 'actor-error') this.add(e.t, 'warning', `actor ${data.actor} failed: ${shortText(String(data.message ?? ''))}`);
        break;
      }
      case 'mark':
        this.add(e.t, 'mark', `▶ ${e.title}${e.predict ? ` (predict: ${e.predict})` : ''}`);
        break;
      case 'run.phase':
        if (e.phase !== 'running') this.add(e.t, 'phase', e.phase === 'draining' ? 'duration over: draining' : 'stopping');
        break;
      default:
        break;
    }
  }

  /** The last `n` entries, newest last. */
  tail(n: number): LogEntry[] {
    return this.entries.slice(-n);
  }
}

function shortText(text: string): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > 60 ? one.slice(0, 57) + '...' : one;
}

export function formatLogEntry(e: LogEntry): string {
  return `${(e.t / 1000).toFixed(1).padStart(5)}s ${e.text}${e.count > 1 ? ` ×${e.count}` : ''}`;
}
