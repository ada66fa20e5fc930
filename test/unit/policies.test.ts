import { describe, expect, it } from 'vitest';
import { proxyConfigSchema, type ProxyConfig } from '../../proxy/config/schema.ts';
import {
  allowList,
  CONNECT_POLICIES,
  connectionRate,
  denyList,
  globalConnections,
  greylist,
  MAIL_POLICIES,
  maxRecipients,
  messageRate,
  networkRate,
  perClientConnections,
  perNetworkConnections,
  RCPT_POLICIES,
  recipientRate,
  relayAuthorization,
  senderRate,
} from '../../proxy/policy/policies.ts';
import { ACCEPT, CONTINUE, refuse, releaseHeld, runPolicies, type Policy, type PolicyContext } from '../../proxy/policy/verdict.ts';
import { REPLIES } from '../../proxy/replies.ts';
import { MemoryStore } from '../../proxy/store/memory-store.ts';

function setup(overrides: Record<string, unknown> = {}) {
  const t = { now: 0 };
  const store = new MemoryStore(() => t.now);
  const config: ProxyConfig = proxyConfigSchema.parse({
    relay: { domains: ['example.test'], clients: ['10.0.0.0/8'] },
    connections: { perClient: 2, rate: '3/1m', max: 5, allow: ['192.0.2.0/24'], deny: ['198.51.100.0/24'] },
    messages: { rate: '2/1m', senderRate: '3/1m', recipientRate: '4/1m', maxRecipients: 3 },
    ...overrides,
  });
  const ctx = (extra: Partial<PolicyContext> = {}): PolicyContext => ({ clientIp: '203.0.113.9', now: t.now, store, config, ...extra });
  return { t, store, config, ctx };
}

describe('runPolicies', () => {
  it('returns the first verdict that is not continue and skips the rest', async () => {
    const { ctx } = setup();
    const seen: string[] = [];
    const p = (name: string, verdict: ReturnType<typeof refuse> | typeof ACCEPT): Policy => async () => {
      seen.push(name);
      return verdict;
    };
    expect(await runPolicies([p('a', CONTINUE), p('b', refuse('message-rate', 'x')), p('c', refuse('spam'))], ctx())).toEqual({
      action: 'refuse',
      reason: 'message-rate',
      detail: 'x',
    });
    expect(seen).toEqual(['a', 'b']);
    expect(await runPolicies([p('d', CONTINUE)], ctx())).toEqual(CONTINUE);
  });

  it('reports accept as continue and stops there', async () => {
    const { ctx } = setup();
    const verdict = await runPolicies([async () => ACCEPT, async () => refuse('spam')], ctx());
    expect(verdict).toEqual({ action: 'continue' });
  });

  it('every reason a built-in policy can give is in the reply table', () => {
    for (const reason of ['client-denied', 'connections-global', 'connections-per-client', 'connection-rate', 'message-rate', 'sender-rate', 'relay-denied', 'address-trick', 'too-many-recipients', 'recipient-rate'])
      expect(REPLIES).toHaveProperty(reason);
  });
});

describe('connect policies', () => {
  it('denies listed clients, IPv4-mapped included', async () => {
    const { ctx } = setup();
    expect(await denyList(ctx({ clientIp: '198.51.100.7' }))).toEqual({ action: 'refuse', reason: 'client-denied' });
    expect(await denyList(ctx({ clientIp: '::ffff:198.51.100.7' }))).toMatchObject({ reason: 'client-denied' });
    expect(await denyList(ctx())).toEqual(CONTINUE);
  });

  it('allow-listed clients skip every remaining connect limit', async () => {
    const { ctx, store } = setup();
    for (let i = 0; i < 10; i++) {
      expect(await runPolicies(CONNECT_POLICIES, ctx({ clientIp: '192.0.2.1', globalConnections: 999 }))).toEqual(CONTINUE);
    }
    expect(await store.current('conn:192.0.2.1')).toBe(0);
    expect(await allowList(ctx())).toEqual(CONTINUE);
  });

  it('the deny list wins over the allow list', async () => {
    const { ctx } = setup({ connections: { allow: ['0.0.0.0/0'], deny: ['203.0.113.9'] } });
    expect(await runPolicies(CONNECT_POLICIES, ctx())).toMatchObject({ reason: 'client-denied' });
  });

  it('caps global connections (this one not counted)', async () => {
    const { ctx } = setup({ connections: { max: 5, reserve: { share: 0 } } });
    expect(await globalConnections(ctx({ globalConnections: 4 }))).toEqual(CONTINUE);
    expect(await globalConnections(ctx({ globalConnections: 5 }))).toMatchObject({ reason: 'connections-global', detail: 'limit 5' });
    expect(await globalConnections(ctx())).toEqual(CONTINUE);
  });

  it('keeps the last share of the cap for known-good clients (postscreen-style reserve)', async () => {
    const { ctx } = setup({ connections: { max: 100, reserve: { share: 0.2 } } });
    expect(await globalConnections(ctx({ globalConnections: 79 }))).toEqual(CONTINUE);
    expect(await globalConnections(ctx({ globalConnections: 80 }))).toMatchObject({ reason: 'connections-global', detail: 'limit 80 of 100, the rest kept for known senders' });
    expect(await globalConnections(ctx({ globalConnections: 99, knownGood: true }))).toEqual(CONTINUE);
    expect(await globalConnections(ctx({ globalConnections: 100, knownGood: true }))).toMatchObject({ reason: 'connections-global', detail: 'limit 100' });
  });

  it('caps connections per network (/24 by default) beside the per-address cap, and their rate', async () => {
    const { ctx } = setup({ connections: { perClient: 10, perNetwork: 3, rate: 'off', networkRate: '4/1m' } });
    const from = (ip: string) => ctx({ clientIp: ip });
    for (const ip of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) expect(await perNetworkConnections(from(ip))).toEqual(CONTINUE);
    expect(await perNetworkConnections(from('203.0.113.200'))).toMatchObject({ reason: 'connections-per-network', detail: 'limit 3' });
    // another /24 is another network
    expect(await perNetworkConnections(from('203.0.114.1'))).toEqual(CONTINUE);
    for (let i = 0; i < 4; i++) expect(await networkRate(from(`198.18.7.${i + 1}`))).toEqual(CONTINUE);
    expect(await networkRate(from('198.18.7.99'))).toMatchObject({ reason: 'network-rate' });
  });

  it('caps concurrent connections per client and records the slot to release', async () => {
    const { ctx, store } = setup();
    const a = ctx();
    const b = ctx();
    expect(await perClientConnections(a)).toEqual(CONTINUE);
    expect(await perClientConnections(b)).toEqual(CONTINUE);
    expect(await perClientConnections(ctx())).toMatchObject({ reason: 'connections-per-client' });
    expect(a.held).toEqual(['conn:203.0.113.9']);
    await releaseHeld(a);
    expect(a.held).toEqual([]);
    expect(await store.current('conn:203.0.113.9')).toBe(1);
    expect(await perClientConnections(ctx())).toEqual(CONTINUE);
  });

  it('counts IPv6 clients of one /64 together', async () => {
    const { ctx } = setup();
    await perClientConnections(ctx({ clientIp: '2001:db8:0:1::a' }));
    await perClientConnections(ctx({ clientIp: '2001:db8:0:1::b' }));
    expect(await perClientConnections(ctx({ clientIp: '2001:db8:0:1::c' }))).toMatchObject({ reason: 'connections-per-client' });
    expect(await perClientConnections(ctx({ clientIp: '2001:db8:0:2::c' }))).toEqual(CONTINUE);
  });

  it('limits the connection rate and says when to retry', async () => {
    const { ctx, t } = setup();
    for (let i = 0; i < 3; i++) expect(await connectionRate(ctx())).toEqual(CONTINUE);
    const v = await connectionRate(ctx());
    expect(v).toMatchObject({ action: 'refuse', reason: 'connection-rate' });
    expect(v.action === 'refuse' && v.detail).toMatch(/^limit 3\/1m, retry in \d+s$/);
    t.now += 120_000;
    expect(await connectionRate(ctx())).toEqual(CONTINUE);
  });

  it('a rate set to off never refuses', async () => {
    const { ctx } = setup({ connections: { rate: 'off' } });
    for (let i = 0; i < 100; i++) expect(await connectionRate(ctx())).toEqual(CONTINUE);
  });

  it('a refused connection holds no slot: runPolicies releases what earlier policies took', async () => {
    const { ctx, store } = setup();
    const verdicts = [];
    for (let i = 0; i < 4; i++) {
      const c = ctx();
      verdicts.push(await runPolicies(CONNECT_POLICIES, c));
      await releaseHeld(c); // the connection closes
    }
    expect(verdicts.map((v) => (v.action === 'refuse' ? v.reason : 'ok'))).toEqual(['ok', 'ok', 'ok', 'connection-rate']);
    expect(await store.current('conn:203.0.113.9')).toBe(0);
    const held = ctx();
    await runPolicies(CONNECT_POLICIES, held);
    expect(held.held).toEqual([]);
  });
});

describe('MAIL policies', () => {
  it('limits messages per client', async () => {
    const { ctx } = setup();
    expect(await messageRate(ctx())).toEqual(CONTINUE);
    expect(await messageRate(ctx())).toEqual(CONTINUE);
    expect(await messageRate(ctx())).toMatchObject({ reason: 'message-rate' });
    expect(await messageRate(ctx({ clientIp: '203.0.113.10' }))).toEqual(CONTINUE);
  });

  it('limits messages per envelope sender, case-insensitively, across clients', async () => {
    const { ctx } = setup({ messages: { senderRate: '2/1m' } });
    expect(await senderRate(ctx({ sender: 'Bob@Example.test' }))).toEqual(CONTINUE);
    expect(await senderRate(ctx({ sender: '<bob@example.TEST>', clientIp: '203.0.113.50' }))).toEqual(CONTINUE);
    expect(await senderRate(ctx({ sender: 'bob@example.test', clientIp: '203.0.113.51' }))).toMatchObject({ reason: 'sender-rate' });
    expect(await senderRate(ctx({ sender: 'alice@example.test' }))).toEqual(CONTINUE);
  });

  it('does not count the null sender', async () => {
    const { ctx } = setup({ messages: { senderRate: '1/1m' } });
    for (let i = 0; i < 5; i++) expect(await senderRate(ctx({ sender: '' }))).toEqual(CONTINUE);
    for (let i = 0; i < 5; i++) expect(await senderRate(ctx({ sender: '<>' }))).toEqual(CONTINUE);
  });

  it('MAIL_POLICIES runs both', async () => {
    const { ctx } = setup();
    const reasons = [];
    for (let i = 0; i < 3; i++) {
      const v = await runPolicies(MAIL_POLICIES, ctx({ sender: 's@x.test' }));
      reasons.push(v.action === 'refuse' ? v.reason : 'ok');
    }
    expect(reasons).toEqual(['ok', 'ok', 'message-rate']);
  });
});

describe('RCPT policies', () => {
  const session = { authenticated: false, recipients: 0 };

  it('accepts served domains from anyone and refuses other domains from strangers', async () => {
    const { ctx } = setup();
    expect(await relayAuthorization(ctx({ session, recipient: 'u@EXAMPLE.test' }))).toEqual(CONTINUE);
    expect(await relayAuthorization(ctx({ session, recipient: 'u@elsewhere.test' }))).toMatchObject({
      reason: 'relay-denied',
      detail: 'elsewhere.test is not served here',
    });
    expect(await relayAuthorization(ctx({ session, recipient: 'u@sub.example.test' }))).toMatchObject({ reason: 'relay-denied' });
  });

  it('lets relay clients and authenticated sessions relay anywhere', async () => {
    const { ctx } = setup();
    expect(await relayAuthorization(ctx({ clientIp: '10.2.3.4', session, recipient: 'u@elsewhere.test' }))).toEqual(CONTINUE);
    expect(await relayAuthorization(ctx({ clientIp: '::ffff:10.2.3.4', session, recipient: 'u@elsewhere.test' }))).toEqual(CONTINUE);
    expect(await relayAuthorization(ctx({ session: { authenticated: true, recipients: 0 }, recipient: 'u@elsewhere.test' }))).toEqual(CONTINUE);
  });

  it('refuses address tricks for everyone, even for served domains and relay clients', async () => {
    const { ctx } = setup();
    for (const [recipient, trick] of [
      ['u%elsewhere.test@example.test', 'percent-hack'],
      ['elsewhere.test!u@example.test', 'bang-path'],
      ['u@[10.0.0.1]', 'ip-literal'],
      ['"u@elsewhere.test"@example.test', 'quoted-at'],
    ]) {
      expect(await relayAuthorization(ctx({ clientIp: '10.2.3.4', session, recipient }))).toEqual({ action: 'refuse', reason: 'address-trick', detail: trick });
    }
  });

  it('judges source routes by the final address', async () => {
    const { ctx } = setup();
    expect(await relayAuthorization(ctx({ session, recipient: '@example.test:u@elsewhere.test' }))).toMatchObject({ reason: 'relay-denied' });
    expect(await relayAuthorization(ctx({ session, recipient: '@elsewhere.test:u@example.test' }))).toEqual(CONTINUE);
  });

  it('fails closed without a recipient', async () => {
    const { ctx } = setup();
    expect(await relayAuthorization(ctx())).toMatchObject({ reason: 'relay-denied' });
  });

  it('caps recipients per message', async () => {
    const { ctx } = setup();
    expect(await maxRecipients(ctx({ session: { authenticated: false, recipients: 2 } }))).toEqual(CONTINUE);
    expect(await maxRecipients(ctx({ session: { authenticated: false, recipients: 3 } }))).toMatchObject({ reason: 'too-many-recipients', detail: 'limit 3' });
  });

  it('limits recipients per client, and a refused relay does not use the rate up', async () => {
    const { ctx } = setup();
    for (let i = 0; i < 10; i++) expect(await runPolicies(RCPT_POLICIES, ctx({ session, recipient: 'x@elsewhere.test' }))).toMatchObject({ reason: 'relay-denied' });
    for (let i = 0; i < 4; i++) expect(await runPolicies(RCPT_POLICIES, ctx({ session, recipient: `u${i}@example.test` }))).toEqual(CONTINUE);
    expect(await recipientRate(ctx())).toMatchObject({ reason: 'recipient-rate' });
  });
});

describe('greylisting (Postgrey)', () => {
  const grey = (overrides: Record<string, unknown> = {}) =>
    setup({ relay: { domains: ['example.test'], clients: [] }, greylist: { enabled: true, delay: '5m', expire: '1d', autoAllow: 2, ...overrides } });
  const rcpt = (ctx: ReturnType<typeof setup>['ctx'], ip: string, sender: string, recipient: string) => ctx({ clientIp: ip, sender, recipient, session: { authenticated: false, recipients: 0 } });

  it('tells a new triplet 450 4.7.1 until the delay has passed, then lets it through', async () => {
    const { ctx, t } = grey();
    expect(await greylist(rcpt(ctx, '203.0.113.9', 'a@sender.test', 'b@example.test'))).toMatchObject({ reason: 'greylisted', detail: '300 s' });
    t.now = 120_000;
    expect(await greylist(rcpt(ctx, '203.0.113.9', 'a@sender.test', 'b@example.test'))).toMatchObject({ reason: 'greylisted', detail: '180 s' });
    t.now = 300_000;
    expect(await greylist(rcpt(ctx, '203.0.113.9', 'a@sender.test', 'b@example.test'))).toEqual(CONTINUE);
  });

  it('keys the client by its /24: another address of the network is the same triplet; another sender is not', async () => {
    const { ctx, t } = grey();
    await greylist(rcpt(ctx, '203.0.113.9', 'a@sender.test', 'b@example.test'));
    t.now = 300_000;
    expect(await greylist(rcpt(ctx, '203.0.113.77', 'A@Sender.test', 'B@example.test'))).toEqual(CONTINUE);
    expect(await greylist(rcpt(ctx, '203.0.113.77', 'other@sender.test', 'b@example.test'))).toMatchObject({ reason: 'greylisted' });
  });

  it('skips a client network that passed autoAllow times, authenticated sessions and relay.clients', async () => {
    const { ctx, t } = grey();
    for (const r of ['1@example.test', '2@example.test']) await greylist(rcpt(ctx, '203.0.113.9', 'a@sender.test', r));
    t.now = 300_000;
    for (const r of ['1@example.test', '2@example.test']) expect(await greylist(rcpt(ctx, '203.0.113.9', 'a@sender.test', r))).toEqual(CONTINUE);
    expect(await greylist(rcpt(ctx, '203.0.113.50', 'new@sender.test', 'new@example.test'))).toEqual(CONTINUE);
    expect(await greylist(ctx({ clientIp: '198.18.0.1', sender: 'x@y.test', recipient: 'b@example.test', session: { authenticated: true, recipients: 0 } }))).toEqual(CONTINUE);
    const trusted = setup({ relay: { domains: ['example.test'], clients: ['10.0.0.0/8'] }, greylist: { enabled: true } });
    expect(await greylist(trusted.ctx({ clientIp: '10.1.2.3', sender: 'x@y.test', recipient: 'b@example.test' }))).toEqual(CONTINUE);
  });

  it('forgets a triplet not seen for `expire`', async () => {
    const { ctx, t } = grey({ delay: '1m', expire: '10m' });
    await greylist(rcpt(ctx, '203.0.113.9', 'a@sender.test', 'b@example.test'));
    t.now = 11 * 60_000;
    expect(await greylist(rcpt(ctx, '203.0.113.9', 'a@sender.test', 'b@example.test'))).toMatchObject({ reason: 'greylisted', detail: '60 s' });
  });
});
