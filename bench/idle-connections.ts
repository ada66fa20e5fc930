// Many idle connections (a connection flood held open): memory per connection, and
// the delivery latency of legitimate mail with and without them, in the same run.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { SmtpClient } from '../proxy/relay/smtp-client.ts';
import { MockBackend } from '../simulator/mock-backend.ts';
import { startCliProxy } from './cli-proxy.ts';

export interface IdleFigures {
  /** one session, one message at a time: straight at the mock backend and through the proxy */
  direct: { p50: number; p99: number };
  proxied: { p50: number; p99: number };
  connections: number;
  rssBeforeMb: number;
  rssAfterMb: number;
  kbPerConnection: number;
  p95Unloaded: number;
  p95Loaded: number;
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

async function latencies(port: number, messages: number): Promise<number[]> {
  const out: number[] = [];
  const client = await SmtpClient.connect({ host: '127.0.0.1', port, localAddress: '127.0.200.1', connectTimeout: 5000, commandTimeout: 10_000, helo: 'legit.test' });
  for (let i = 0; i < messages; i++) {
    const started = performance.now();
    await client.expect('MAIL FROM:<office@sender.test>', [250]);
    await client.expect('RCPT TO:<user@example.test>', [250]);
    await client.expect('DATA', [354]);
    client.write(`Subject: latency ${i}\r\nDate: ${new Date().toUTCString()}\r\nMessage-ID: <l${i}@sender.test>\r\n\r\nhello\r\n`);
    await client.finishData(10_000);
    out.push(performance.now() - started);
  }
  await client.quit();
  return out;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

const p95 = (values: number[]) => percentile(values, 0.95);

export async function benchIdle(target: number): Promise<IdleFigures> {
  const mock = await new MockBackend({ name: 'mx', keepRaw: false }).start();
  const proxy = await startCliProxy(
    [
      // what is measured is the cost of held connections: no limit may refuse or shed them
      `connections: { max: ${target + 1000}, perClient: ${target}, rate: off, perNetwork: ${target}, networkRate: off, idleTimeout: 5m, stress: { enabled: false }, reserve: { share: 0 } }`,
      'messages: { rate: off, senderRate: off, recipientRate: off }',
      'relay: { domains: [example.test] }',
      `backends: { servers: [{ name: mx, address: ${mock.address} }] }`,
    ],
    1,
  );
  const { port, child } = proxy;
  const sockets: net.Socket[] = [];
  try {
    await latencies(mock.port, 50); // warm-up
    const direct = await latencies(mock.port, 300);
    await latencies(port, 50);
    const unloaded = await latencies(port, 300);
    const rssBefore = rssOf(child.pid!);
    // hold `target` connections from many source addresses, each greeted and idle
    let greeted = 0;
    const perAddress = 500;
    await new Promise<void>((resolve, reject) => {
      let opened = 0;
      const deadline = setTimeout(() => reject(new Error(`only ${greeted} of ${target} connections greeted in 60 s`)), 60_000);
      const openMore = () => {
        // a bounded number in flight, so the accept queue is not the thing measured
        while (opened < target && opened - greeted < 200) {
          const i = opened++;
          const s = net.connect({ host: '127.0.0.1', port, localAddress: `127.0.${100 + Math.floor(i / perAddress)}.${(i % 250) + 1}` });
          s.on('error', () => {});
          s.once('data', (d) => {
            // a 421 is a refusal, not a connection held: the figure would be that of fewer
            if (!d.toString('latin1').startsWith('220')) {
              clearTimeout(deadline);
              return reject(new Error(`connection ${i} refused: ${d.toString('latin1').trim()}`));
            }
            greeted++;
            if (greeted === target) {
              clearTimeout(deadline);
              resolve();
            } else openMore();
          });
          sockets.push(s);
        }
      };
      openMore();
    });
    await new Promise((r) => setTimeout(r, 1000));
    const rssAfter = rssOf(child.pid!);
    const loaded = await latencies(port, 300);
    return {
      direct: { p50: percentile(direct, 0.5), p99: percentile(direct, 0.99) },
      proxied: { p50: percentile(unloaded, 0.5), p99: percentile(unloaded, 0.99) },
      connections: target,
      rssBeforeMb: rssBefore / 2 ** 20,
      rssAfterMb: rssAfter / 2 ** 20,
      kbPerConnection: (rssAfter - rssBefore) / target / 1024,
      p95Unloaded: p95(unloaded),
      p95Loaded: p95(loaded),
    };
  } finally {
    for (const s of sockets) s.destroy();
    await proxy.stop();
    await mock.stop();
  }
}
