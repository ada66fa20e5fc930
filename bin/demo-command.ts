// `npm run demo` until the scenario runner lands: a proxy on built-in defaults in
// front of two mock backends, a burst of legitimate mail and a connection flood.
import { parseProxyConfig } from '../proxy/config/load.ts';
import { Proxy } from '../proxy/proxy.ts';
import { MockBackend } from '../simulator/mock-backend.ts';
import { SmtpClient } from '../proxy/relay/smtp-client.ts';
import { EXIT } from './exit-codes.ts';

export async function demoCommand(): Promise<number> {
  const mocks = await Promise.all(['mx1', 'mx2'].map((name) => new MockBackend({ name, latency: 5, keepRaw: false }).start()));
  const config = parseProxyConfig({
    listen: '127.0.0.1:0',
    admin: '127.0.0.1:0',
    backends: { servers: mocks.map((m) => ({ name: m.name, address: m.address })) },
  });
  const proxy = await Proxy.start(config, { processMetrics: false });
  const port = proxy.address.port;
  console.log(`attitude demo: proxy on 127.0.0.1:${port} in front of ${mocks.map((m) => `${m.name} (${m.address})`).join(' and ')}`);
  let delivered = 0;
  const senders = Array.from({ length: 5 }, async (_, s) => {
    const client = await SmtpClient.connect({ host: '127.0.0.1', port, localAddress: `127.0.1.${s + 1}`, connectTimeout: 2000, commandTimeout: 5000, helo: `sender${s}.test` });
    for (let i = 0; i < 10; i++) {
      await client.expect(`MAIL FROM:<office${s}@sender.test>`, [250]);
      await client.expect(`RCPT TO:<user${i}@example.test>`, [250]);
      await client.expect('DATA', [354]);
      client.socket.write(`Subject: demo ${s}.${i}\r\nX-Attitude-Id: d${s}.${i}\r\n\r\nhello\r\n`);
      const r = await client.finishData(5000);
      if (r.code === 250) delivered++;
    }
    await client.quit();
  });
  await Promise.all(senders);
  console.log(`legitimate mail: ${delivered}/50 delivered, ${mocks.map((m) => `${m.name} got ${m.received.length}`).join(', ')}`);
  const floodIp = '127.0.66.6';
  let refused = 0;
  let held = 0;
  const flood = await Promise.all(
    Array.from({ length: 40 }, () =>
      SmtpClient.connect({ host: '127.0.0.1', port, localAddress: floodIp, connectTimeout: 2000, commandTimeout: 2000, helo: 'bot' }).then(
        (c) => (held++, c),
        () => (refused++, null),
      ),
    ),
  );
  console.log(`connection flood from ${floodIp}: 40 tried, ${held} held, ${refused} refused (connections.perClient = ${config.connections.perClient})`);
  for (const c of flood) c?.destroy();
  const state = proxy.state();
  console.log(`backends: ${state.backends.map((b) => `${b.name} ${b.health} messages=${b.messages}`).join(', ')}`);
  await proxy.close(1000);
  await Promise.all(mocks.map((m) => m.stop()));
  return delivered === 50 && refused > 0 ? EXIT.ok : EXIT.thresholdsFailed;
}
