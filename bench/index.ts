// `npm run bench`: figures and ratios against a baseline measured in the same run.
import os from 'node:os';
import { benchRelay } from './relay.ts';
import { benchIdle } from './idle-connections.ts';
import { benchSimulator, printCapacity } from './simulator-capacity.ts';
import { benchPressure, printPressure, PRESSURE_TITLE } from './slowloris.ts';
import { benchPeers, peerHeadline, peerOptionsFromEnv, peersTitle, printPeers } from './peers.ts';
import { benchScaling, printScaling, scalingCases, scalingTitle } from './scaling.ts';
import { benchStreams, printStreams, streamCounts, STREAMS_TITLE } from './data-streams.ts';

// BENCH_PARTS=peers,relay,scaling,streams,idle,simulator,pressure (all by default): the heavy ones can be left out
const ALL_PARTS = ['peers', 'relay', 'scaling', 'streams', 'idle', 'simulator', 'pressure'] as const;
const parts = new Set((process.env.BENCH_PARTS ?? ALL_PARTS.join(',')).split(',').map((p) => p.trim()));
for (const p of parts) if (!(ALL_PARTS as readonly string[]).includes(p)) throw new Error(`BENCH_PARTS: unknown part ${p} (expected some of ${ALL_PARTS.join(',')})`);

const messages = Number(process.env.BENCH_MESSAGES ?? 4000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
console.log(`attitude bench on ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; parts: ${[...parts].join(',')}\n`);

let headline: string[] = [];
if (parts.has('peers')) {
  const opts = peerOptionsFromEnv((l) => console.log(l));
  console.log(peersTitle(opts));
  const rows = await benchPeers(opts);
  printPeers(rows);
  headline = peerHeadline(rows);
  console.log('headline:');
  for (const line of headline) console.log(`  ${line}`);
  console.log('');
}

const us = (v: number | null) => (v === null ? '-' : `${v.toFixed(0)} µs`);
if (parts.has('relay')) {
  for (const sink of ['mock', 'smtp-sink'] as const) {
    const label = sink === 'mock' ? 'the mock backend (smtp-server, own process)' : "Postfix's smtp-sink (C)";
    console.log(`relay: ${messages} messages of 1 KB, 20 parallel sessions from smtp-source, median of ${rounds} rounds; sink: ${label}`);
    const rows = await benchRelay({ messages, sessions: 20, size: 1024, rounds, sink });
    const cores = os.availableParallelism();
    console.log(`  mode                          direct msg/s   tcp splice   naive relay   attitude   attitude/direct   attitude/naive   --workers ${cores}   /direct`);
    for (const r of rows) {
      console.log(
        `  ${r.mode.padEnd(30)}${r.direct.toFixed(0).padStart(12)}${r.splice.toFixed(0).padStart(13)}${r.naive.toFixed(0).padStart(14)}${r.proxied.toFixed(0).padStart(11)}${r.ratio.toFixed(2).padStart(18)}${(r.proxied / r.naive).toFixed(1).padStart(16)}x${r.cluster.toFixed(0).padStart(13)}${(r.cluster / r.direct).toFixed(2).padStart(10)}`,
      );
    }
    for (const r of rows) {
      console.log(`  CPU per message, ${r.mode}: sink ${us(r.cpu.sink)}, tcp splice ${us(r.cpu.splice)}, naive relay ${us(r.cpu.naive)}, attitude ${us(r.cpu.proxied)}`);
    }
    console.log('');
  }
  console.log('tcp splice = bytes copied between the two sockets, no SMTP: the ceiling for any relay in Node on these cores');
  console.log('naive relay = smtp-server defaults (100 ms banner delay, reverse DNS) + pooled nodemailer, buffering each message');
  console.log('attitude = attitude proxy --workers 1: relay checks, smuggling guard and filters on, rate limits off (one client address), a log line per transaction\n');
}

if (parts.has('scaling')) {
  console.log(scalingTitle(rounds));
  printScaling(await benchScaling(scalingCases(), rounds));
  console.log('');
}

if (parts.has('streams')) {
  console.log(STREAMS_TITLE);
  printStreams(await benchStreams(streamCounts()));
  console.log('');
}

if (parts.has('idle')) {
  const idleTarget = Number(process.env.BENCH_IDLE ?? 10_000);
  console.log(`idle connections: ${idleTarget} greeted connections held open against attitude proxy --workers 1 (one process)`);
  const idle = await benchIdle(idleTarget);
  const added = (k: 'p50' | 'p99') => `${k} ${idle.direct[k].toFixed(2)} ms direct, ${idle.proxied[k].toFixed(2)} ms through the proxy (+${(idle.proxied[k] - idle.direct[k]).toFixed(2)} ms)`;
  console.log(`  latency of one message, one session, mock backend: ${added('p50')}; ${added('p99')}`);
  console.log(`  RSS ${idle.rssBeforeMb.toFixed(0)} MB -> ${idle.rssAfterMb.toFixed(0)} MB: ${idle.kbPerConnection.toFixed(1)} KB per connection`);
  console.log(`  legitimate mail p95 latency: ${idle.p95Unloaded.toFixed(2)} ms unloaded, ${idle.p95Loaded.toFixed(2)} ms with the connections held (x${(idle.p95Loaded / idle.p95Unloaded).toFixed(2)})`);
}

if (parts.has('simulator')) {
  const simRate = Number(process.env.BENCH_SIM_RATE ?? 12_000);
  const simConnections = Number(process.env.BENCH_SIM_CONNECTIONS ?? 5000);
  console.log(`\nsimulator capacity: legit mail offered at ${simRate}/s for 3 s (1 KB, 50 clients x 4 connections), then ${simConnections} connections held by a flood`);
  printCapacity(await benchSimulator(simRate, simConnections));
}

if (parts.has('pressure')) {
  console.log(`\n${PRESSURE_TITLE}`);
  printPressure(await benchPressure());
}

// repeated at the end of a run of several parts, where it would have scrolled away
if (headline.length && parts.size > 1) {
  console.log('\nheadline (the peers part, above):');
  for (const line of headline) console.log(`  ${line}`);
}
