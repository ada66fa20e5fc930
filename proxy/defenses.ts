// The seam between the relay and the defenses: admission at connect, checks at
// MAIL and RCPT, the stages a message streams through, and authentication.
import type { Transform } from 'node:stream';
import type { SMTPServerAuthentication, SMTPServerAuthenticationResponse, SMTPServerSession } from 'smtp-server';
import type { ProxyConfig } from './config/schema.ts';
import type { ProxyEmitter } from './events.ts';
import { reply, type Reply } from './replies.ts';
import type { ClientState } from './smtp/session.ts';

export interface Defenses {
  admit(ip: string, active: number): Promise<Reply | null>;
  release(ip: string): void;
  checkMail(state: ClientState, session: SMTPServerSession, sender: string): Promise<Reply | null>;
  checkRcpt(state: ClientState, session: SMTPServerSession, rcpt: string): Promise<Reply | null>;
  messageStages(state: ClientState, session: SMTPServerSession): { stages: Transform[]; headers: () => string };
  authenticate(auth: SMTPServerAuthentication, session: SMTPServerSession, cb: (err: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void): void;
  onReply(connection: unknown, code: number): void;
  reload(): void;
  snapshot(): Record<string, unknown>;
  close(): Promise<void>;
}

export function createDefenses(config: () => ProxyConfig, _events: ProxyEmitter): Defenses {
  const perClient = new Map<string, number>();
  return {
    async admit(ip, active) {
      const c = config().connections;
      if (active > c.max) return reply('connections-global', `limit ${c.max}`);
      const n = (perClient.get(ip) ?? 0) + 1;
      if (n > c.perClient) return reply('connections-per-client', `limit ${c.perClient}`);
      perClient.set(ip, n);
      return null;
    },
    release(ip) {
      const n = (perClient.get(ip) ?? 1) - 1;
      if (n <= 0) perClient.delete(ip);
      else perClient.set(ip, n);
    },
    async checkMail() {
      return null;
    },
    async checkRcpt() {
      return null;
    },
    messageStages() {
      return { stages: [], headers: () => '' };
    },
    authenticate(auth, _session, cb) {
      const users = config().relay.auth?.users ?? {};
      if (auth.username && Object.hasOwn(users, auth.username) && users[auth.username] === auth.password) return cb(null, { user: auth.username });
      const err = new Error('5.7.8 authentication credentials invalid') as Error & { responseCode: number };
      err.responseCode = 535;
      cb(err);
    },
    onReply() {},
    reload() {},
    snapshot() {
      return {};
    },
    async close() {},
  };
}
