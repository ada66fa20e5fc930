// Sender authentication without sockets: SenderAuth over a table of DNS records, and
// the header stripper over every way a header can be cut into chunks.
import { describe, expect, it } from 'vitest';
import { SenderAuth } from '../../proxy/senders.ts';
import { HeaderStripper, forgedVerdicts } from '../../proxy/stages/header-strip.ts';
import { runStages } from '../../proxy/stages/stage.ts';
import { proxyConfigSchema } from '../../proxy/config/schema.ts';
import type { Dns } from '../../proxy/dns.ts';

/** A resolver over TXT records; `broken` names fail as a DNS server in trouble would. */
function fakeDns(txt: Record<string, string>, broken: string[] = []): Dns {
  const resolve = async (name: string, rrtype: string) => {
    if (broken.includes(name)) throw Object.assign(new Error('SERVFAIL'), { code: 'ESERVFAIL' });
    if (rrtype === 'TXT' && txt[name]) return [[txt[name]]];
    throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
  };
  return { resolve } as unknown as Dns;
}

const RECORDS = {
  'bank.test': 'v=spf1 ip4:192.0.2.0/24 -all',
  '_dmarc.bank.test': 'v=DMARC1; p=reject',
  'shop.test': 'v=spf1 ip4:192.0.2.0/24 ~all',
  '_dmarc.shop.test': 'v=DMARC1; p=quarantine',
};

function auth(senders: { spf: string; dmarc: string }, dns = fakeDns(RECORDS)) {
  const config = proxyConfigSchema.parse({ hostname: 'mx.attitude.test', senders });
  return new SenderAuth(() => config, dns);
}

async function judge(a: SenderAuth, ip: string, envelope: string, from: string) {
  const spf = await a.spf(ip, 'client.test', envelope);
  const m = a.message(spf);
  if (!m) return { spf, refused: null, header: '' };
  runStages([m.stage], Buffer.from(`From: <${from}>\r\nSubject: x\r\n\r\nbody\r\n`));
  runStages([m.stage], null);
  const refused = await m.finish().then(
    () => null,
    (e: unknown) => e,
  );
  return { spf, refused, header: m.header() };
}

describe('SPF', () => {
  it('refuses only a hard fail, and only with spf: reject', async () => {
    const reject = auth({ spf: 'reject', dmarc: 'off' });
    const fail = await reject.spf('10.0.0.1', 'client.test', 'ceo@bank.test');
    expect(fail?.result).toBe('fail');
    expect(reject.spfRefusal(fail)).toMatchObject({ code: 550, enhanced: '5.7.23' });
    const soft = await reject.spf('10.0.0.1', 'client.test', 'sales@shop.test');
    expect(soft?.result).toBe('softfail');
    expect(reject.spfRefusal(soft)).toBeNull();
    const pass = await reject.spf('192.0.2.7', 'client.test', 'ceo@bank.test');
    expect(pass).toMatchObject({ result: 'pass', passedFor: 'bank.test' });
    const tag = auth({ spf: 'tag', dmarc: 'off' });
    expect(tag.spfRefusal(await tag.spf('10.0.0.1', 'client.test', 'ceo@bank.test'))).toBeNull();
  });

  it('lets mail through when the DNS fails: temperror, never a refusal', async () => {
    const a = auth({ spf: 'reject', dmarc: 'off' }, fakeDns(RECORDS, ['bank.test']));
    const v = await a.spf('10.0.0.1', 'client.test', 'ceo@bank.test');
    expect(v?.result).toBe('temperror');
    expect(a.spfRefusal(v)).toBeNull();
  });

  it('asks nothing when both checks are off', async () => {
    const a = auth({ spf: 'off', dmarc: 'off' });
    expect(await a.spf('10.0.0.1', 'client.test', 'ceo@bank.test')).toBeNull();
    expect(a.message(null)).toBeNull();
  });
});

describe('DMARC', () => {
  it('refuses a From not aligned with SPF or DKIM under p=reject with enforce', async () => {
    const r = await judge(auth({ spf: 'tag', dmarc: 'enforce' }), '10.0.0.1', 'bounce@lookalike.test', 'ceo@bank.test');
    expect(r.refused).toMatchObject({ reason: 'dmarc-reject', reply: { code: 550, enhanced: '5.7.1' } });
  });

  it('passes an aligned sender, and says so in one Authentication-Results header', async () => {
    const r = await judge(auth({ spf: 'reject', dmarc: 'enforce' }), '192.0.2.7', 'ceo@bank.test', 'ceo@bank.test');
    expect(r.refused).toBeNull();
    expect(r.header).toMatch(/^Authentication-Results: mx\.attitude\.test;\r\n\tspf=pass [^\r\n]*;\r\n\tdkim=none[^\r\n]*;\r\n\tdmarc=pass [^\r\n]*\r\n$/);
  });

  it('tags instead of refusing: p=quarantine under enforce, p=reject under tag', async () => {
    const q = await judge(auth({ spf: 'tag', dmarc: 'enforce' }), '10.0.0.1', 'bounce@lookalike.test', 'sales@shop.test');
    expect(q.refused).toBeNull();
    expect(q.header).toMatch(/dmarc=fail[^]*X-Attitude-DMARC: quarantine\r\n$/);
    const t = await judge(auth({ spf: 'tag', dmarc: 'tag' }), '10.0.0.1', 'bounce@lookalike.test', 'ceo@bank.test');
    expect(t.refused).toBeNull();
    expect(t.header).toMatch(/X-Attitude-DMARC: quarantine\r\n$/);
  });
});

describe('HeaderStripper', () => {
  const head =
    'Received: from a\r\nAuthentication-Results: mx.attitude.test;\r\n\tspf=pass smtp.mailfrom=bank.test\r\n' +
    'Authentication-Results: (a comment) MX.Attitude.Test; dkim=pass\r\nX-Spam-Score: -100\r\n' +
    'Authentication-Results: other.test; spf=pass\r\nSubject: hi\r\n\r\n';
  const body = 'X-Spam-Score: in the body stays\r\nAuthentication-Results: mx.attitude.test; body\r\n';
  const expected = 'Received: from a\r\nAuthentication-Results: other.test; spf=pass\r\nSubject: hi\r\n\r\n' + body;

  it('drops verdicts claiming our host name, keeps other hosts and the body, wherever the chunks are cut', () => {
    const whole = Buffer.from(head + body);
    for (let cut = 1; cut < whole.length; cut += 1) {
      const s = new HeaderStripper(forgedVerdicts('mx.attitude.test'));
      const out = [...runStages([s], whole.subarray(0, cut)), ...runStages([s], whole.subarray(cut)), ...runStages([s], null)];
      expect(Buffer.concat(out).toString(), `cut at ${cut}`).toBe(expected);
    }
  });

  it('passes a message without a body, and a field too long to hold, untouched', () => {
    const s = new HeaderStripper(forgedVerdicts('mx.attitude.test'));
    const out = [...runStages([s], Buffer.from('Subject: x\r\nX-Spam-Score: 9')), ...runStages([s], null)];
    expect(Buffer.concat(out).toString()).toBe('Subject: x\r\n');
    const long = 'X-Spam-Score: 1\r\n' + '\t' + 'a'.repeat(70 * 1024) + '\r\n\r\n';
    const t = new HeaderStripper(forgedVerdicts('mx.attitude.test'));
    expect(Buffer.concat([...runStages([t], Buffer.from(long)), ...runStages([t], null)]).toString()).toBe(long);
  });
});
