// Replies of other servers classed as the reports name them: by what fired (a
// per-client limit, a rate, greylisting, relay denial, ...), with the meaning of the
// enhanced code, then of the code, when the text says nothing a rule knows.
import { describe, expect, it } from 'vitest';
import { replyInfo } from '../../simulator/smtp/reply.ts';
import { classifyReply } from '../../simulator/smtp/reply-class.ts';

const classOf = (line: string) => {
  const code = Number(line.slice(0, 3));
  return replyInfo({ code, text: line.slice(4) }).reason;
};

describe('reply classes', () => {
  it('names what fired in Postfix, postscreen, postgrey and Haraka', () => {
    expect(classOf('421 4.7.0 postfix.attitude.test Error: too many connections from 127.11.0.1')).toBe('connections-per-client');
    expect(classOf('450 4.7.1 Error: too much mail from 127.10.0.3')).toBe('message-rate');
    expect(classOf('450 4.7.1 Error: too many recipients from 127.10.0.3')).toBe('recipient-rate');
    expect(classOf('452 4.5.3 Error: too many recipients')).toBe('too-many-recipients');
    expect(classOf('554 5.7.1 <x@relay.outside.test>: Relay access denied')).toBe('relay-denied');
    expect(classOf('550 5.5.1 Protocol error')).toBe('early-talker');
    expect(classOf('421 4.3.2 All server ports are busy')).toBe('connections-global');
    expect(classOf('550 5.7.1 Service unavailable; client [127.20.0.1] blocked using bl.attitude.test')).toBe('dnsbl');
    expect(classOf('450 4.2.0 <bob@example.test>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/')).toBe('greylisted');
    expect(classOf('552 5.3.4 Message size exceeds fixed limit')).toBe('message-too-large');
    expect(classOf('550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown in local recipient table')).toBe('unknown-recipient');
    expect(classOf('421 connection concurrency limit exceeded')).toBe('connections-per-client');
    // haraka-plugin-limit and Haraka's early_talker and rcpt checks
    expect(classOf('421 Too many concurrent connections')).toBe('connections-per-client');
    expect(classOf('450 Too many recipient attempts')).toBe('too-many-recipients');
    expect(classOf('450 recipient rate limit exceeded')).toBe('recipient-rate');
    expect(classOf('554 You talk too soon')).toBe('early-talker');
    expect(classOf("550 I cannot deliver mail for <x@relay.outside.test>")).toBe('relay-denied');
    expect(classOf('421 4.7.0 connection rate limit exceeded')).toBe('connection-rate');
  });

  it("keeps the reference proxy's own labels", () => {
    expect(classOf('421 4.7.0 too many connections from your address (limit 10)')).toBe('connections-per-client');
    expect(classOf('450 4.7.1 message rate limit exceeded for your address')).toBe('message-rate');
  });

  it('falls back on the enhanced code, then on the code, never on a bare number', () => {
    expect(classifyReply(451, '4.3.2', 'whatever happened')).toBe('not-accepting-mail');
    expect(classifyReply(554, '5.7.9', 'no')).toBe('policy');
    expect(classifyReply(421, null, 'mx.example closing')).toBe('service-unavailable');
    expect(classifyReply(499, null, '')).toBe('4xx-other');
  });

  it('gives no reason to a success that is not one of the proxy texts', () => {
    expect(replyInfo({ code: 250, text: '2.0.0 Ok: queued as 4F2A1C0D' }).reason).toBeNull();
  });
});
