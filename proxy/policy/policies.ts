// The admission and envelope policies, in the order DESIGN.md gives for each stage.
// Limits are counted per client key (an IPv4 address, an IPv6 /64; see clientKey).
import type { Rate } from '../config/units.ts';
import { formatRate } from '../config/units.ts';
import type { ReplyReason } from '../replies.ts';
import { judgeRecipient } from './address.ts';
import { cidrList, clientKey, networkKey } from './cidr.ts';
import { ACCEPT, CONTINUE, refuse, type Policy, type PolicyContext, type PolicyVerdict } from './verdict.ts';


async function limitRate(ctx: PolicyContext, key: string, rate: Rate | null, reason: ReplyReason): Promise<PolicyVerdict> {
  if (!rate) return CONTINUE;
  const r = await ctx.store.hit(key, rate.count, rate.perMs);
  if (r.allowed) return CONTINUE;
  return refuse(reason, `limit ${formatRate(rate)}, retry in ${Math.ceil(r.retryAfterMs / 1000)}s`);
}

// --- connect ---

export async function denyList(ctx: PolicyContext): Promise<PolicyVerdict> {
  return cidrList(ctx.config.connections.deny).matches(ctx.clientIp) ? refuse('client-denied') : CONTINUE;
}

/** Allowed clients skip the remaining connect limits (global cap included): admins and monitors always get in. */
export async function allowList(ctx: PolicyContext): Promise<PolicyVerdict> {
  return cidrList(ctx.config.connections.allow).matches(ctx.clientIp) ? ACCEPT : CONTINUE;
}

/** Connections a client may find open: all of max for a known-good client, the rest leave the reserve free. */
export function globalLimit(ctx: Pick<PolicyContext, 'config' | 'knownGood'>): number {
  const { max, reserve } = ctx.config.connections;
  return ctx.knownGood ? max : Math.max(1, Math.floor(max * (1 - reserve.share)));
}

export async function globalConnections(ctx: PolicyContext): Promise<PolicyVerdict> {
  const limit = globalLimit(ctx);
  if (ctx.globalConnections === undefined || ctx.globalConnections < limit) return CONTINUE;
  const { max } = ctx.config.connections;
  return refuse('connections-global', limit < max ? `limit ${limit} of ${max}, the rest kept for known senders` : `limit ${max}`);
}

/** Takes a concurrency slot for `key` (recorded in ctx.held); the caller releases it on close. */
async function takeSlot(ctx: PolicyContext, key: string, limit: number, reason: ReplyReason): Promise<PolicyVerdict> {
  const r = await ctx.store.acquire(key, limit);
  if (!r.allowed) return refuse(reason, `limit ${limit}`);
  (ctx.held ??= []).push(key);
  return CONTINUE;
}

export function perClientConnections(ctx: PolicyContext): Promise<PolicyVerdict> {
  return takeSlot(ctx, `conn:${clientKey(ctx.clientIp)}`, ctx.config.connections.perClient, 'connections-per-client');
}

export function perNetworkConnections(ctx: PolicyContext): Promise<PolicyVerdict> {
  const c = ctx.config.connections;
  return takeSlot(ctx, `conn-net:${networkKey(ctx.clientIp, c.networkPrefix)}`, c.perNetwork, 'connections-per-network');
}

export async function connectionRate(ctx: PolicyContext): Promise<PolicyVerdict> {
  return limitRate(ctx, `conn-rate:${clientKey(ctx.clientIp)}`, ctx.config.connections.rate, 'connection-rate');
}

export async function networkRate(ctx: PolicyContext): Promise<PolicyVerdict> {
  const c = ctx.config.connections;
  return limitRate(ctx, `net-rate:${networkKey(ctx.clientIp, c.networkPrefix)}`, c.networkRate, 'network-rate');
}

// --- MAIL FROM ---

export async function messageRate(ctx: PolicyContext): Promise<PolicyVerdict> {
  return limitRate(ctx, `msg-rate:${clientKey(ctx.clientIp)}`, ctx.config.messages.rate, 'message-rate');
}

/**
 * Per envelope sender, lower-cased. The null sender is not counted: every bounce
 * from every server shares it, and the per-client message rate still applies.
 */
export async function senderRate(ctx: PolicyContext): Promise<PolicyVerdict> {
  const sender = (ctx.sender ?? '').trim().replace(/^<(.*)>$/, '$1').toLowerCase();
  if (sender === '') return CONTINUE;
  return limitRate(ctx, `sender-rate:${sender}`, ctx.config.messages.senderRate, 'sender-rate');
}

// --- RCPT TO ---

/**
 * Open-relay prevention, per recipient: served domains are accepted from anyone;
 * other domains only from relay.clients networks or authenticated sessions. Address
 * tricks are refused for everyone: how the backend would route them is unknown.
 */
export async function relayAuthorization(ctx: PolicyContext): Promise<PolicyVerdict> {
  if (ctx.recipient === undefined) return refuse('relay-denied', 'no recipient');
  const judged = judgeRecipient(ctx.recipient, ctx.config.relay.domains);
  if (judged.kind === 'trick') return refuse('address-trick', judged.trick);
  if (judged.kind === 'local') return CONTINUE;
  if (ctx.session?.authenticated) return CONTINUE;
  if (cidrList(ctx.config.relay.clients).matches(ctx.clientIp)) return CONTINUE;
  return refuse('relay-denied', `${judged.domain} is not served here`);
}

/** session.recipients counts the recipients already accepted in this transaction. */
export async function maxRecipients(ctx: PolicyContext): Promise<PolicyVerdict> {
  const max = ctx.config.messages.maxRecipients;
  return (ctx.session?.recipients ?? 0) >= max ? refuse('too-many-recipients', `limit ${max}`) : CONTINUE;
}

export async function recipientRate(ctx: PolicyContext): Promise<PolicyVerdict> {
  return limitRate(ctx, `rcpt-rate:${clientKey(ctx.clientIp)}`, ctx.config.messages.recipientRate, 'recipient-rate');
}

/**
 * Postgrey's greylisting: a new (client network, sender, recipient) triplet is told
 * 450 until `delay` has passed since it was first seen; a real MTA retries and gets
 * through, a bot that sends once and moves on does not. A client network that passed
 * `autoAllow` times skips it; authenticated users and relay.clients networks too.
 */
export async function greylist(ctx: PolicyContext): Promise<PolicyVerdict> {
  const g = ctx.config.greylist;
  if (!g.enabled || ctx.recipient === undefined || ctx.session?.authenticated) return CONTINUE;
  if (cidrList(ctx.config.relay.clients).matches(ctx.clientIp)) return CONTINUE;
  const who = g.key === 'network' ? networkKey(ctx.clientIp, ctx.config.connections.networkPrefix) : clientKey(ctx.clientIp);
  const passes = `grey-passed:${who}`;
  if (g.autoAllow > 0 && (await ctx.store.count(passes)) >= g.autoAllow) return CONTINUE;
  const triplet = `grey:${who}|${(ctx.sender ?? '').toLowerCase()}|${ctx.recipient.toLowerCase()}`;
  const first = await ctx.store.remember(triplet, ctx.now, g.expire);
  const waited = ctx.now - first;
  if (waited < g.delay) return refuse('greylisted', `${Math.ceil((g.delay - waited) / 1000)} s`);
  if (g.autoAllow > 0) await ctx.store.increment(passes, g.expire);
  return CONTINUE;
}

export const CONNECT_POLICIES: readonly Policy[] = [denyList, allowList, globalConnections, perClientConnections, perNetworkConnections, connectionRate, networkRate];
export const MAIL_POLICIES: readonly Policy[] = [messageRate, senderRate];
// Relay first: a refused relay attempt must not use up the client's recipient rate.
// Greylisting last: what a limit refuses anyway is not worth a triplet.
export const RCPT_POLICIES: readonly Policy[] = [relayAuthorization, maxRecipients, recipientRate, greylist];
