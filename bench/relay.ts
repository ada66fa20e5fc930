// Relay throughput: the same smtp-source load straight at smtp-sink and through the
// proxy, in the same run, as messages/s and the ratio (issue: reference proxy).
import { spawn } from 'node:child_process';
import path from 'node:path';
import os from 'node:os';
import { startCliProxy } from './cli-proxy.ts';
import { parseProxyConfig } from '../proxy/config/load.ts';
import { Proxy } from '../proxy/proxy.ts';
import { startSink } from '../test/helpers/postfix-tools.ts';
import { startNaiveRelay } from './naive-relay.ts';

export interface RelayFigures {
  mode: string;
  direct: number;
  naive: number;
  proxied: number;
  /** attitude proxy --workers <cores>, in its own processes */
  cluster: number;
  ratio: number;
}

/** `attitude proxy --workers N` relaying to the sink, with every limit out of the way. */
function startCluster(sinkAddress: string, workers: number) {
  return startCliProxy(
    [
      'connections: { max: 10000, perClient: 10000, rate: off }',
      'messages: { rate: off, senderRate: off, recipientRate: off, maxRecipients: 1000 }',
      'throttle: { perClient: off, global: off }',
      `backends: { servers: [{ name: sink, address: ${sinkAddress}, maxConnections: 100 }] }`,
    ],
    workers,
  );
}

function smtpSource(port: number, keep: boolean, sessions: number, messages: number, size: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const args = [...(keep ? ['-d'] : []), '-s', String(sessions), '-m', String(messages), '-l', String(size), '-f', 'bench@sender.test', '-t', 'rcpt@example.test', `127.0.0.1:${port}`];
    const started = process.hrtime.bigint();
    const child = spawn('smtp-source', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0) return reject(new Error(`smtp-source exited ${code}: ${err}`));
      resolve(messages / seconds);
    });
  });
}

export interface SinkHandle {
  port: number;
  address: string;
  stop(): Promise<void>;
}

/** The mock backend in a child process, so it does not share the proxy's event loop. */
export async function startMockSink(): Promise<SinkHandle> {
  const child = spawn(process.execPath, [path.resolve(import.meta.dirname, '../bin/run-ts.js'), path.resolve(import.meta.dirname, 'mock-sink.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => child.stdout!.once('data', (d) => resolve(Number(String(d).trim()))));
  return {
    port,
    address: `127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

export async function benchRelay(opts: { messages: number; sessions: number; size: number; sink: 'smtp-sink' | 'mock' }): Promise<RelayFigures[]> {
  const sink: SinkHandle = opts.sink === 'mock' ? await startMockSink() : await startSink([], false);
  const proxy = await Proxy.start(
    parseProxyConfig({
      listen: '127.0.0.1:0',
      connections: { max: 10_000, perClient: 10_000, rate: 'off' },
      messages: { rate: 'off', senderRate: 'off', recipientRate: 'off', maxRecipients: 1000 },
      throttle: { perClient: 'off', global: 'off' },
      relay: { domains: ['example.test'] },
      backends: { servers: [{ name: 'sink', address: sink.address, maxConnections: 100 }] },
      log: { level: 'silent' },
    }),
    { processMetrics: false },
  );
  const naive = await startNaiveRelay(sink.port);
  const clustered = await startCluster(sink.address, os.availableParallelism());
  const out: RelayFigures[] = [];
  try {
    for (const keep of [true, false]) {
      const mode = keep ? 'kept sessions' : 'one message per connection';
      // warm up every path (JIT, pools) before measuring: a Node process needs a few
      // thousand messages before its hot paths are compiled; the naive relay's banner
      // delay makes its warm-up with one message per connection a short one
      for (const port of [sink.port, naive.port, proxy.address.port, clustered.port]) {
        const warm = port === naive.port && !keep ? 200 : Math.min(3000, opts.messages);
        await smtpSource(port, keep, opts.sessions, warm, opts.size);
      }
      const direct = await smtpSource(sink.port, keep, opts.sessions, opts.messages, opts.size);
      // the naive relay holds every banner 100 ms: fewer messages keep its run short
      const naiveRate = await smtpSource(naive.port, keep, opts.sessions, keep ? opts.messages : Math.min(opts.messages, 1000), opts.size);
      const proxied = await smtpSource(proxy.address.port, keep, opts.sessions, opts.messages, opts.size);
      const cluster = await smtpSource(clustered.port, keep, opts.sessions, opts.messages, opts.size);
      out.push({ mode, direct, naive: naiveRate, proxied, cluster, ratio: proxied / direct });
    }
  } finally {
    await naive.close();
    await clustered.stop();
    await proxy.close(1000);
    await sink.stop();
  }
  return out;
}
