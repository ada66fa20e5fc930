// How attitude's cost grows with the work (issue 15): CPU µs per message and msg/s of
// attitude --workers 1 against the message size (1 KB to 10 MB, one recipient) and the
// recipients per message (1 to 100, 1 KB), smtp-source into smtp-sink in kept sessions,
// with the same load straight at the sink in the same rounds as the baseline. Each
// case is bounded in bytes and recipients (fewer messages for the big ones) and time.
// Run alone: node bin/run-ts.js bench/scaling.ts
import path from 'node:path';
import { startSink } from '../test/helpers/postfix-tools.ts';
import { cpuMicros } from './child-process.ts';
import { startAttitude } from './relay.ts';
import { measure, median, smtpSource, type Run, type SourceLoad } from './smtp-source.ts';

export interface ScalingCase {
  size: number;
  recipients: number;
  messages: number;
  sessions: number;
}

export interface ScalingRow extends ScalingCase {
  direct: Run;
  attitude: Run;
}

const KB = 1024;
const MB = 1024 * KB;

/** The cases, each bounded: about `budgetMb` MB of message bytes and 20,000 recipients, 20 to 2000 messages. */
export function scalingCases(budgetMb = Number(process.env.BENCH_SCALING_MB ?? 200)): ScalingCase[] {
  const bounded = (size: number, recipients: number): ScalingCase => {
    const messages = Math.max(20, Math.min(2000, Math.floor((budgetMb * MB) / size), Math.floor(20_000 / recipients)));
    return { size, recipients, messages, sessions: Math.min(20, messages) };
  };
  return [bounded(1 * KB, 1), bounded(100 * KB, 1), bounded(1 * MB, 1), bounded(10 * MB, 1), bounded(1 * KB, 10), bounded(1 * KB, 100)];
}

export async function benchScaling(cases: ScalingCase[], rounds: number): Promise<ScalingRow[]> {
  const sink = await startSink([], false);
  const attitude = await startAttitude(sink.address, 1);
  const sinkCpu = () => cpuMicros(sink.pid);
  const attCpu = () => cpuMicros(attitude.child.pid);
  const rows: ScalingRow[] = [];
  try {
    // a Node process compiles its hot paths in the first few thousand messages
    await smtpSource(attitude.port, true, { sessions: 20, messages: 3000, size: KB });
    for (const c of cases) {
      const load: SourceLoad = { ...c, timeoutMs: 120_000 };
      // one short run of each case first: the big buffers and the recipient paths warm up too
      await smtpSource(attitude.port, true, { ...load, messages: Math.max(c.sessions, Math.floor(c.messages / 10)) });
      const direct: Run[] = [];
      const proxied: Run[] = [];
      for (let round = 0; round < rounds; round++) {
        direct.push(await measure(sink.port, sinkCpu, true, load));
        proxied.push(await measure(attitude.port, attCpu, true, load));
      }
      rows.push({ ...c, direct: median(direct), attitude: median(proxied) });
    }
  } finally {
    await attitude.stop();
    await sink.stop();
  }
  return rows;
}

const sizeLabel = (n: number) => (n >= MB ? `${n / MB} MB` : `${n / KB} KB`);

export function scalingTitle(rounds: number): string {
  return `scaling: attitude --workers 1 against the work per message, kept sessions from smtp-source into smtp-sink, median of ${rounds} interleaved rounds`;
}

export function printScaling(rows: ScalingRow[]): void {
  const base = rows.find((r) => r.size === KB && r.recipients === 1);
  console.log('  size     rcpts   messages  sessions   direct msg/s   attitude msg/s   /direct   attitude CPU/msg   x 1 KB/1 rcpt   MB/s through');
  for (const r of rows) {
    const cpu = r.attitude.cpu;
    const growth = cpu !== null && base?.attitude.cpu ? `${(cpu / base.attitude.cpu).toFixed(1)}x` : '-';
    const mbps = (r.attitude.rate * r.size) / MB;
    console.log(
      `  ${sizeLabel(r.size).padEnd(8)}${String(r.recipients).padStart(6)}${String(r.messages).padStart(11)}${String(r.sessions).padStart(10)}${r.direct.rate.toFixed(0).padStart(15)}${r.attitude.rate.toFixed(0).padStart(17)}${(r.attitude.rate / r.direct.rate).toFixed(2).padStart(10)}${(cpu === null ? '-' : `${cpu.toFixed(0)} µs`).padStart(19)}${growth.padStart(16)}${mbps.toFixed(1).padStart(15)}`,
    );
  }
  // the marginal cost: the biggest case against 1 KB to 1 recipient
  const slope = (big: ScalingRow | undefined, units: (r: ScalingRow) => number) =>
    big && base && big.attitude.cpu !== null && base.attitude.cpu !== null && units(big) > units(base) ? (big.attitude.cpu - base.attitude.cpu) / (units(big) - units(base)) : null;
  const perMb = slope(rows.filter((r) => r.recipients === 1).at(-1), (r) => r.size / MB);
  const perRcpt = slope(rows.filter((r) => r.size === KB).at(-1), (r) => r.recipients);
  const fmt = (v: number | null) => (v === null ? '-' : `${v.toFixed(0)} µs`);
  console.log(`  marginal attitude CPU: ${fmt(perMb)} per MB of message, ${fmt(perRcpt)} per recipient`);
}

if (process.argv[1] && import.meta.filename === path.resolve(process.argv[1])) {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  console.log(scalingTitle(rounds));
  printScaling(await benchScaling(scalingCases(), rounds));
}
