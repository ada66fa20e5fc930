// Reading Haraka's default log format: a connection per uuid, a transaction per `.N`,
// the disconnect summary (early=, txns=, rcpts=, lr=); with timestamps=true stamps, or
// the syslog's; none at all is a clear error.
import { describe, expect, it } from 'vitest';
import { classify } from '../../simulator/import/classify.ts';
import { readHarakaLog } from '../../simulator/import/haraka.ts';
import { detectFormat } from '../../bin/import-command.ts';

const A = '8D6B5D3C-1B6C-4A7F-9E5B-0C2B6F1A2D3E';
const B = '0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0';
const C = '11111111-2222-3333-4444-555555555555';
const D = '66666666-7777-8888-9999-AAAAAAAAAAAA';
const LOG = `
2024-12-01T10:00:00.100Z [INFO] [-] [core] Listening on 0.0.0.0:25
2024-12-01T10:00:00.123Z [NOTICE] [${A}] [core] connect ip=192.0.2.10 port=40001 local_ip=198.51.100.1 local_port=25
2024-12-01T10:00:00.200Z [INFO] [${A}] [helo.checks] helo: mail.partner.example
2024-12-01T10:00:00.300Z [NOTICE] [${A}.1] [core] sender <alice@partner.example> code=CONT msg=""
2024-12-01T10:00:00.400Z [NOTICE] [${A}.1] [core] recipient <carol@example.org> code=OK msg="" sender=alice@partner.example
2024-12-01T10:00:00.600Z [NOTICE] [${A}.1] [core] message mid="<1@partner.example>" size=4210 rcpts=1/0/0 delay=0.01 code=CONT msg=""
2024-12-01T10:00:00.700Z [NOTICE] [${A}.1] [core] queue code=OK msg="Message Queued (${A}.1)"
2024-12-01T10:00:00.800Z [NOTICE] [${A}] [core] disconnect ip=192.0.2.10 rdns="mail.partner.example" helo="mail.partner.example" relay=N early=N esmtp=Y tls=N pipe=N errors=0 txns=1 rcpts=1/0/0 msgs=1/0/0 bytes=4210 lr="" time=0.677
2024-12-01T10:00:01.000Z [NOTICE] [${B}] [core] connect ip=203.0.113.50 port=50001 local_ip=198.51.100.1 local_port=25
2024-12-01T10:00:01.010Z [NOTICE] [${B}] [core] disconnect ip=203.0.113.50 rdns="" helo="" relay=N early=Y esmtp=N tls=N pipe=N errors=1 txns=0 rcpts=0/0/0 msgs=0/0/0 bytes=0 lr="550 You talk too soon" time=0.01
2024-12-01T10:00:02.000Z [NOTICE] [${C}] [core] connect ip=203.0.113.9 port=50002 local_ip=198.51.100.1 local_port=25
2024-12-01T10:00:02.100Z [NOTICE] [${C}.1] [core] sender <antispam@relay.outside.example> code=CONT msg=""
2024-12-01T10:00:02.200Z [NOTICE] [${C}.1] [core] recipient <relaytest@relay.outside.example> code=DENY msg="I cannot deliver mail for <relaytest@relay.outside.example>" sender=antispam@relay.outside.example
2024-12-01T10:00:02.300Z [NOTICE] [${C}] [core] disconnect ip=203.0.113.9 rdns="" helo="scanner" relay=N early=N esmtp=Y tls=N pipe=N errors=1 txns=1 rcpts=0/0/1 msgs=0/0/0 bytes=0 lr="550 I cannot deliver mail for <relaytest@relay.outside.example>" time=0.3
Dec  1 10:00:03 mx haraka[321]: [NOTICE] [${D}] [core] connect ip=203.0.113.77 port=50003 local_ip=198.51.100.1 local_port=25
Dec  1 10:00:03 mx haraka[321]: [NOTICE] [${D}] [core] disconnect ip=203.0.113.77 rdns="" helo="" relay=N early=N esmtp=N tls=N pipe=N errors=0 txns=0 rcpts=0/0/0 msgs=0/0/0 bytes=0 lr="421 Too many concurrent connections" time=0
`;

describe('the Haraka reader', () => {
  const o = readHarakaLog(LOG);
  it('follows connections and transactions by uuid', () => {
    expect(o.format).toBe('haraka');
    expect(o.sessions.map((s) => [s.client, s.transactions.length, s.refused])).toEqual([
      ['192.0.2.10', 1, null],
      ['203.0.113.50', 0, 'pregreet'],
      ['203.0.113.9', 1, null],
      ['203.0.113.77', 0, 'connection-limit'],
    ]);
    expect(o.messages[0]).toMatchObject({ client: '192.0.2.10', received: true, size: 4210, recipients: 1, sent: 1, messageId: '1@partner.example', domains: ['example.org'] });
    expect(o.resolutionMs).toBe(1);
  });

  it('classes its clients as the Postfix reader does', () => {
    expect(classify(o).map((r) => [r.address, r.class])).toEqual([
      ['192.0.2.10', 'legit'],
      ['203.0.113.50', 'early-talker'],
      ['203.0.113.9', 'relay-prober'],
      ['203.0.113.77', 'flood'],
    ]);
  });

  it('says how to get timestamps when the log has none', () => {
    const bare = LOG.split('\n').filter((l) => l.startsWith('2024')).map((l) => l.slice(25)).join('\n');
    expect(() => readHarakaLog(bare)).toThrow(/set timestamps=true in Haraka's config\/log\.ini/);
  });

  it('is told apart from a Postfix log', () => {
    expect(detectFormat(LOG)).toBe('haraka');
    expect(detectFormat('Dec  1 10:00:00 mx postfix/smtpd[1]: connect from x[192.0.2.1]')).toBe('postfix');
    expect(detectFormat('hello')).toBeNull();
  });
});
