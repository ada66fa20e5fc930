// The proxy's diagnostics: named events that observers (metrics, logs, an in-process
// simulator) subscribe to. The relay code emits; it never formats a log line or
// touches a metric itself.
import { EventEmitter } from 'node:events';

export type Stage = 'connect' | 'helo' | 'auth' | 'mail' | 'rcpt' | 'data' | 'session';

export interface ProxyEvents {
  connection: [{ client: string; accepted: boolean; reason?: string; code?: number }];
  closed: [{ client: string; durationMs: number }];
  refusal: [{ client: string; stage: Stage; reason: string; code: number; enhanced: string; text: string }];
  transaction: [
    {
      client: string;
      sender: string;
      recipients: number;
      size: number;
      backend: string | null;
      outcome: 'delivered' | 'deferred' | 'rejected' | 'aborted';
      reply: string;
      ms: number;
      id: string;
      /** the accepted recipients as log.recipients allows (absent with `none`) */
      to?: string[];
      /** the id the backend queued the message under, from its 250 */
      queueId: string | null;
      /** the message's Message-ID header */
      messageId: string | null;
    },
  ];
  failover: [{ backend: string; why: string }];
  health: [{ backend: string; state: 'up' | 'down'; why: string }];
  throttle: [{ client: string; scope: 'client' | 'global'; bytes: number; waitMs: number }];
  /** stress mode began or ended (connections open at that moment, of max) */
  stress: [{ active: boolean; connections: number; max: number }];
  /** one DNS list lookup at connect: listed, clean, or failed (a failure counts as not listed) */
  'dns-list': [{ zone: string; result: 'listed' | 'clean' | 'failed' }];
  warning: [{ message: string }];
  'client-error': [{ message: string; code: string | null }];
  reload: [{ ok: boolean; problems?: string }];
}

export class ProxyEmitter extends EventEmitter<ProxyEvents> {
  /** One refusal, as every stage reports it: which client, where, and the reply it got. */
  refused(client: string, stage: Stage, r: { reason: string; code: number; enhanced: string; text: string }): void {
    this.emit('refusal', { client, stage, reason: r.reason, code: r.code, enhanced: r.enhanced, text: r.text });
  }
}
