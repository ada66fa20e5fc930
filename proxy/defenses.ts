// The defenses as the relay sees them: admission at connect, policies at MAIL and
// RCPT, the stages a message streams through, the reply tarpit, the inbound gate
// and authentication. The checks themselves are the small modules in policy/,
// stages/ and filters/; this file only wires them to the session.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Stage } from './stages/stage.ts';
import type { ProxyConfig } from './config/schema.ts';
import type { ProxyEmitter } from './events.ts';
import { buildFilters, FilterStage, type ContentFilter } from './filters/index.ts';
import { CONNECT_POLICIES, MAIL_POLICIES, RCPT_POLICIES } from './policy/policies.ts';
import { releaseHeld, runPolicies, type Policy, type PolicyContext } from './policy/verdict.ts';
import { reply, type Reply } from './replies.ts';
import { LineEndingGuard } from './stages/line-endings.ts';
import { MessageIdPeek } from './stages/message-id.ts';
import { SizeGuard } from './stages/size-guard.ts';
import { forgedVerdicts, HeaderStripper } from './stages/header-strip.ts';
import { MemoryStore } from './store/memory-store.ts';
import { RedisStore, StoreUnavailableError } from './store/redis-store.ts';
import type { Clock, CounterStore } from './store/store.ts';
import { Throttle, type Gate } from './throttle.ts';

export interface Admitted {
  /** Frees what admission took (the per-client connection slot) when the connection closes. */
  release: () => void;
}

export interface MessageInspection {
  /** Guards and filters, in order, before the hold-back and dot-stuffing. */
  stages: Stage[];
  /** Header lines the filters add (complete: the whole message was seen). */
  headers: (complete: boolean) => string;
  /** Bytes of message seen so far. */
  size: () => number;
  /** The message's Message-ID header, once its headers went by. */
  messageId: () => string | null;
}

/**
 * Refusals that are the proxy's policy, not the client's mistake, so the tarpit does not
 * count them: a greylisted recipient. An MTA that pipelines (Postfix's smtp client sends
 * every RCPT of a message at once) gets one 450 per recipient, and counting those would
 * slow down every reply of the session to a legitimate sender for being greylisted.
 */
const NOT_CLIENT_ERRORS = new Set(['greylisted']);

/** Errors counted per connection for the tarpit (Postfix smtpd_soft/hard_error_limit). */
export interface ErrorCount {
  errors: number;
  /**
   * After a refused MAIL or RCPT, how many `503 need MAIL/RCPT` replies are not counted:
   * a client that pipelines (RFC 2920) has sent the rest of its group already, and those
   * replies follow from the refusal, which was counted (at most a message's recipients and DATA).
   */
  excused: number;
  /** the hard limit ended the session */
  closed: boolean;
}

export class Defenses {
  readonly store: CounterStore;
  readonly throttle: Throttle;
  private filters: ContentFilter[];
  private filtersFor: ProxyConfig['filters'];
  refusedByStage: Record<string, number> = {};

  constructor(
    private readonly config: () => ProxyConfig,
    private readonly events: ProxyEmitter,
    private readonly clock: Clock = Date.now,
    store?: CounterStore,
  ) {
    this.store = store ?? createStore(config(), events, clock);
    this.throttle = new Throttle(config, events, clock);
    this.filtersFor = config().filters;
    this.filters = buildFilters(config());
    events.on('refusal', (r) => (this.refusedByStage[r.reason] = (this.refusedByStage[r.reason] ?? 0) + 1));
  }

  private context(clientIp: string, extra: Partial<PolicyContext> = {}): PolicyContext {
    return { clientIp, now: this.clock(), store: this.store, config: this.config(), ...extra };
  }

  private async verdict(policies: readonly Policy[], ctx: PolicyContext): Promise<Reply | null> {
    try {
      const v = await runPolicies(policies, ctx);
      return v.action === 'refuse' ? reply(v.reason, v.detail) : null;
    } catch (err) {
      if (err instanceof StoreUnavailableError) return reply('limits-unavailable');
      throw err;
    }
  }

  /** Connect: deny/allow lists, global cap (with the reserve for known-good clients), per-client and per-network connections and rates. */
  async admit(ip: string, openBeforeThis: number, knownGood = false): Promise<Reply | Admitted> {
    const ctx = this.context(ip, { globalConnections: openBeforeThis, knownGood, held: [] });
    const refusal = await this.verdict(CONNECT_POLICIES, ctx);
    if (refusal) return refusal;
    return { release: () => void releaseHeld(ctx) };
  }

  checkMail(ip: string, sender: string): Promise<Reply | null> {
    return this.verdict(MAIL_POLICIES, this.context(ip, { sender }));
  }

  /** `recipients`: those already accepted in this transaction. */
  checkRcpt(ip: string, sender: string, rcpt: string, session: { authenticated: boolean; recipients: number }): Promise<Reply | null> {
    return this.verdict(RCPT_POLICIES, this.context(ip, { sender, recipient: rcpt, session }));
  }

  /** Line endings (smuggling), size, then the content filters: all while the message streams. */
  /**
   * `tee`: a stage that sees the message as the backend will (after the line-ending
   * guard and with forged verdict headers stripped), before the filters: the DKIM verifier.
   */
  inspect(ip: string, envelope: { from: string; to: readonly string[] }, tee?: Stage): MessageInspection {
    const config = this.config();
    if (config.filters !== this.filtersFor) {
      this.filtersFor = config.filters;
      this.filters = buildFilters(config);
    }
    const filter = new FilterStage(this.filters, { envelope: { from: envelope.from, to: [...envelope.to] }, clientIp: ip });
    const size = new SizeGuard(config.messages.maxSize);
    const peek = new MessageIdPeek();
    return {
      size: () => size.bytes,
      messageId: () => peek.messageId,
      // the Message-ID is noted before the filters: a refused message's line names it too
      stages: [
        new LineEndingGuard(config.filters.strictLineEndings ? 'strict' : 'normalize'),
        size,
        new HeaderStripper(forgedVerdicts(config.hostname)),
        ...(tee ? [tee] : []),
        peek,
        filter,
      ],
      headers: (complete) => {
        const v = filter.verdict;
        if (!complete || !v || v.action !== 'accept' || !v.headers) return '';
        return v.headers.map(([name, value]) => `${name}: ${value.replace(/[\r\n]+/g, ' ')}\r\n`).join('');
      },
    };
  }

  /**
   * The tarpit (Postfix smtpd_soft_error_limit / smtpd_error_sleep_time): error
   * replies (4xx, 5xx) are counted per connection; once the count passes the soft
   * limit EVERY reply waits errorDelay, not only the errors, so a client probing
   * with a mix of good and bad commands is slowed down all the same; past the hard
   * limit the session ends with the 421 returned here (the caller counts it as a
   * `too-many-errors` refusal). As in Postfix the limits count errors "without
   * delivering mail": a delivered message starts the count afresh, so an MTA whose
   * mail the backend sometimes defers is not slowed down for good.
   */
  tarpit(count: ErrorCount, code: number, delivered: boolean, reason: string | null = null, verb: string | null = null): number | Reply {
    const c = this.config().connections;
    if (delivered && !count.closed) count.errors = 0;
    const consequence = (reason === 'need-mail' || reason === 'need-rcpt') && count.excused > 0;
    if (consequence) count.excused--;
    else if (code >= 400 && code !== 421 && !(reason && NOT_CLIENT_ERRORS.has(reason))) count.errors++;
    if (verb === 'MAIL' || verb === 'RCPT') {
      if (code >= 400) count.excused = this.config().messages.maxRecipients + 1;
      else if (verb === 'MAIL') count.excused = 0;
    } else if (verb === 'RSET') count.excused = 0;
    if (count.errors > c.errorHardLimit && !count.closed) {
      count.closed = true;
      return reply('too-many-errors', `limit ${c.errorHardLimit}`);
    }
    return count.errors > c.errorSoftLimit ? c.errorDelay : 0;
  }

  inboundGate(ip: string): { gate: Gate; detach: () => void } | null {
    const t = this.config().throttle;
    if (!t.perClient && !t.global) return null;
    return this.throttle.attach(ip);
  }

  /** relay.auth's users; the password compared in constant time (no timing oracle for guessers). */
  authenticate(user: string, pass: string): boolean {
    const users = this.config().relay.auth?.users ?? {};
    const known = Object.hasOwn(users, user);
    const digest = (v: string) => createHash('sha256').update(v, 'utf8').digest();
    // an unknown user costs the same comparison as a known one
    const same = timingSafeEqual(digest(known ? users[user] : ''), digest(pass));
    return known && same;
  }

  reload(): void {
    this.throttle.reload();
  }

  /** Waits for a remote store at start; if it is away the proxy still starts (fail mode applies). */
  async ready(events: ProxyEmitter): Promise<void> {
    try {
      await this.store.ready?.();
    } catch (err) {
      events.emit('warning', { message: `${(err as Error).message}; starting with storeFailMode ${this.config().storeFailMode}` });
    }
  }

  snapshot() {
    return { refusals: { ...this.refusedByStage }, throttle: this.throttle.snapshot() };
  }

  async close(): Promise<void> {
    this.throttle.close();
    await this.store.close();
  }
}

/** `store: memory` or `redis://...`; a Redis outage is reported as a warning either way. */
export function createStore(config: ProxyConfig, events: ProxyEmitter, clock: Clock): CounterStore {
  if (config.store === 'memory') return new MemoryStore(clock);
  return new RedisStore({
    url: config.store,
    failMode: config.storeFailMode,
    clock,
    onStateChange: (available, error) =>
      events.emit('warning', {
        message: available ? `limit store ${config.store} is back` : `limit store ${config.store} unreachable (${error}); failing ${config.storeFailMode}`,
      }),
  });
}
