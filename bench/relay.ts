// Relay throughput: the same smtp-source load straight at a sink and through each
// relay, in the same run, as messages/s, the ratio, and the CPU each process spent
// per message (issue: reference proxy). Every relay runs in a process of its own.
import os from 'node:os';
import { startCliProxy } from './cli-proxy.ts';
import { cpuMicros, startBenchChild } from './child-process.ts';
import { measure, median, smtpSource, type Run } from './smtp-source.ts';
import { startSink } from '../test/helpers/postfix-tools.ts';

export interface RelayFigures {
  mode: string;
  /** messages/s */
  direct: number;
  splice: number;
  naive: number;
  proxied: number;
  /** attitude proxy --workers <cores> */
  cluster: number;
  ratio: number;
  /** CPU µs per message of each process (null where /proc cannot tell) */
  cpu: { sink: number | null; splice: number | null; naive: number | null; proxied: number | null };
}

/** `attitude proxy --workers N` relaying to the sink: checks and filters on, the rate limits off (the load comes from one address), logging each transaction. */
export function startAttitude(sinkAddress: string, workers: number, nodeArgs: string[] = []) {
  return startCliProxy(
    [
      'connections: { max: 10000, perClient: 10000, rate: off, perNetwork: 10000, networkRate: off }',
      'messages: { rate: off, senderRate: off, recipientRate: off, maxRecipients: 1000, maxSize: 50MB }',
      'throttle: { perClient: off, global: off }',
      'relay: { domains: [example.test] }',
      `backends: { servers: [{ name: sink, address: ${sinkAddress}, maxConnections: 100 }] }`,
    ],
    workers,
    nodeArgs,
  );
}

export async function benchRelay(opts: { messages: number; sessions: number; size: number; rounds: number; sink: 'smtp-sink' | 'mock' }): Promise<RelayFigures[]> {
  const sink = opts.sink === 'mock' ? await startBenchChild('mock-sink.ts') : await startSink([], false);
  const splice = await startBenchChild('tcp-splice.ts', [String(sink.port)]);
  const naive = await startBenchChild('naive-relay.ts', [String(sink.port)]);
  const attitude = await startAttitude(sink.address, 1);
  const clustered = await startAttitude(sink.address, os.availableParallelism());
  const out: RelayFigures[] = [];
  try {
    for (const keep of [true, false]) {
      const mode = keep ? 'kept sessions' : 'one message per connection';
      // warm up every path (JIT, pools) before measuring: a Node process needs a few
      // thousand messages before its hot paths are compiled; the naive relay's banner
      // delay makes its warm-up with one message per connection a short one
      for (const port of [sink.port, splice.port, naive.port, attitude.port, clustered.port]) {
        const warm = port === naive.port && !keep ? 200 : Math.min(3000, opts.messages);
        await smtpSource(port, keep, { ...opts, messages: warm });
      }
      // rounds interleave the targets, so a slow spell of the machine hits them all; the median of each is kept
      const runs: Record<'direct' | 'splice' | 'naive' | 'proxied' | 'cluster', Run[]> = { direct: [], splice: [], naive: [], proxied: [], cluster: [] };
      for (let round = 0; round < opts.rounds; round++) {
        runs.direct.push(await measure(sink.port, () => cpuMicros(sink.pid), keep, opts));
        runs.splice.push(await measure(splice.port, () => cpuMicros(splice.pid), keep, opts));
        // the naive relay holds every banner 100 ms: fewer messages keep its run short
        runs.naive.push(await measure(naive.port, () => cpuMicros(naive.pid), keep, { ...opts, messages: keep ? opts.messages : Math.min(opts.messages, 1000) }));
        runs.proxied.push(await measure(attitude.port, () => cpuMicros(attitude.child.pid), keep, opts));
        runs.cluster.push(await measure(clustered.port, () => null, keep, opts));
      }
      const direct = median(runs.direct);
      const proxied = median(runs.proxied);
      const spliced = median(runs.splice);
      const naiveRun = median(runs.naive);
      out.push({
        mode,
        direct: direct.rate,
        splice: spliced.rate,
        naive: naiveRun.rate,
        proxied: proxied.rate,
        cluster: median(runs.cluster).rate,
        ratio: proxied.rate / direct.rate,
        cpu: { sink: direct.cpu, splice: spliced.cpu, naive: naiveRun.cpu, proxied: proxied.cpu },
      });
    }
  } finally {
    await Promise.all([splice.stop(), naive.stop(), attitude.stop(), clustered.stop()]);
    await sink.stop();
  }
  return out;
}
