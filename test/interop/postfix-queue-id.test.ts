// A message followed from the proxy's log line into a real Postfix's log: the queue id
// the transaction line names is the one Postfix logged the message under, with the
// same Message-ID.
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { parseProxyConfig } from '../../proxy/config/load.ts';
import { Proxy } from '../../proxy/proxy.ts';
import { RawClient } from '../helpers/raw-smtp.ts';
import { message } from '../helpers/proxy.ts';
import { until } from '../helpers/defenses.ts';
import { postfixFixture } from '../helpers/postfix-fixture.ts';
import { canRunPostfix, postfixOrSkip } from '../helpers/postfix-server.ts';
import { startSink, toolsMissing } from '../helpers/postfix-tools.ts';

const f = postfixFixture();

describe.skipIf(toolsMissing('smtp-sink', 'postfix') || !canRunPostfix())('the transaction line and Postfix', () => {
  it("names the queue id Postfix logged the message under, and the message's Message-ID", async (ctx) => {
    f.sink = await startSink();
    f.postfix = await postfixOrSkip(ctx, f.sink.address);
    const lines: Record<string, unknown>[] = [];
    const out = new Writable({
      write(chunk, _e, cb) {
        for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
        cb();
      },
    });
    f.proxy = await Proxy.start(
      parseProxyConfig({ listen: '127.0.0.1:0', relay: { domains: ['example.test'] }, backends: { healthCheck: { enabled: false }, servers: [{ name: 'postfix', address: f.postfix.address }] } }),
      { processMetrics: false, logger: pino({ level: 'info' }, out) },
    );
    const c = await RawClient.connect(f.proxy.address.port, '127.0.3.9');
    await c.read();
    expect((await c.send('a@sender.test', ['b@example.test'], message('follow-me')))?.code).toBe(250);
    c.close();
    expect(await until(() => lines.some((l) => l.msg === 'transaction'))).toBe(true);
    const tx = lines.find((l) => l.msg === 'transaction')!;
    expect(tx).toMatchObject({ outcome: 'delivered', to: ['b@example.test'], messageId: '<follow-me@sender.test>' });
    expect(tx.queueId).toMatch(/^[0-9A-Za-z]{6,}$/);
    // Postfix's cleanup logs the id with the Message-ID: `4F2A1C0D: message-id=<follow-me@sender.test>`
    expect(await until(() => f.postfix!.log().includes(`${tx.queueId}: message-id=<follow-me@sender.test>`), 10_000)).toBe(true);
  });
});
