// attitude against the peers a user would pick instead, on the same smtp-source load
// into the same smtp-sink, in the same rounds: HAProxy mode tcp (a C byte splice, no
// SMTP), Postfix's smtpd with smtpd_proxy_filter (SMTP-aware C) and Haraka's
// smtp_forward (SMTP-aware Node). Each in a process (tree) of its own, with the CPU
// it spent per message; a peer that cannot run here is skipped with the reason.
// Run alone: node bin/run-ts.js bench/peers.ts
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { startSink } from '../test/helpers/postfix-tools.ts';
import { cpuMicros } from './child-process.ts';
import { startHaproxy } from './peer-haproxy.ts';
import { HARAKA_VERSION, startHaraka } from './peer-haraka.ts';
import { startPostfixFilter } from './peer-postfix.ts';
import { PeerMissing, type BenchPeer } from './peer.ts';
import { startAttitude } from './relay.ts';
import { measure, median, smtpSource, type Run, type SourceLoad } from './smtp-source.ts';

export type PeerId = 'direct' | 'attitude' | 'haproxy' | 'postfix' | 'haraka' | 'haraka-nodelay';

export interface PeerRow {
  id: PeerId;
  label: string;
  /** the median run of each mode; null when the peer was skipped or failed */
  kept: Run | null;
  single: Run | null;
  /** why there are no figures */
  skipped?: string;
}

export interface PeerOptions {
  messages: number;
  sessions: number;
  size: number;
  rounds: number;
  log?: (line: string) => void;
}

function version(cmd: string, args: string[], pattern: RegExp): string {
  try {
    return pattern.exec(execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))?.[1] ?? '';
  } catch {
    return '';
  }
}

interface Target {
  row: PeerRow;
  peer: BenchPeer | null;
  /** messages per run: Haraka as shipped does ~20 a second per session, fewer keep its runs short */
  messages: number;
}

export async function benchPeers(opts: PeerOptions): Promise<PeerRow[]> {
  const log = opts.log ?? (() => {});
  const sink = await startSink([], false);
  const haproxyVersion = version('haproxy', ['-v'], /version (\d+\.\d+\.\d+)/);
  const postfixVersion = version('postconf', ['-d', '-h', 'mail_version'], /(\S+)/);
  const slow = Math.min(opts.messages, 2000);
  const specs: Array<{ id: PeerId; label: string; messages: number; start: () => Promise<BenchPeer> }> = [
    { id: 'direct', label: 'direct to smtp-sink', messages: opts.messages, start: async () => ({ port: sink.port, cpu: () => cpuMicros(sink.pid), stop: async () => {} }) },
    {
      id: 'attitude',
      label: 'attitude --workers 1 (Node)',
      messages: opts.messages,
      start: async () => {
        const p = await startAttitude(sink.address, 1);
        return { port: p.port, cpu: () => cpuMicros(p.child.pid), stop: () => p.stop() };
      },
    },
    { id: 'haproxy', label: `HAProxy ${haproxyVersion} mode tcp, nbthread 1 (C)`, messages: opts.messages, start: () => startHaproxy(sink.port) },
    { id: 'postfix', label: `Postfix ${postfixVersion} smtpd_proxy_filter (C)`, messages: opts.messages, start: () => startPostfixFilter(sink.address, opts.sessions) },
    { id: 'haraka', label: `Haraka ${HARAKA_VERSION} smtp_forward (Node)`, messages: slow, start: () => startHaraka(sink.port, { noDelay: false }, log) },
    { id: 'haraka-nodelay', label: '  the same with TCP_NODELAY', messages: slow, start: () => startHaraka(sink.port, { noDelay: true }, log) },
  ];
  // BENCH_PEERS=attitude,haproxy,...: only these (and the direct row); all by default
  const wanted = process.env.BENCH_PEERS?.split(',').map((p) => p.trim());
  const targets: Target[] = [];
  for (const s of specs.filter((s) => s.id === 'direct' || !wanted || wanted.includes(s.id))) {
    const row: PeerRow = { id: s.id, label: s.label, kept: null, single: null };
    let peer: BenchPeer | null = null;
    try {
      peer = await s.start();
    } catch (err) {
      row.skipped = err instanceof PeerMissing ? err.message : `did not start: ${(err as Error).message.split('\n')[0]}`;
    }
    targets.push({ row, peer, messages: s.messages });
  }
  try {
    for (const keep of [true, false]) {
      const load = (t: Target): SourceLoad => ({ sessions: opts.sessions, size: opts.size, messages: t.messages, timeoutMs: 180_000 });
      const live = () => targets.filter((t): t is Target & { peer: BenchPeer } => t.peer !== null && !t.row.skipped);
      const fail = (t: Target, err: unknown) => (t.row.skipped = `failed: ${(err as Error).message.split('\n')[0]}`);
      // warm-up: a Node process compiles its hot paths in the first few thousand messages;
      // Postfix's master forks its smtpd processes
      for (const t of live()) await smtpSource(t.peer.port, keep, { ...load(t), messages: Math.min(t.messages, 3000) }).catch((err) => fail(t, err));
      const runs = new Map<PeerId, Run[]>();
      // rounds interleave the targets, so a slow spell of the machine hits them all; the median of each is kept
      for (let round = 0; round < opts.rounds; round++) {
        for (const t of live()) {
          try {
            runs.set(t.row.id, [...(runs.get(t.row.id) ?? []), await measure(t.peer.port, t.peer.cpu, keep, load(t))]);
          } catch (err) {
            fail(t, err);
          }
        }
      }
      for (const t of live()) {
        const m = median(runs.get(t.row.id) ?? []);
        if (keep) t.row.kept = m;
        else t.row.single = m;
      }
    }
  } finally {
    for (const t of targets) await t.peer?.stop();
    await sink.stop();
  }
  return targets.map((t) => t.row);
}

const us = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${v.toFixed(0)} µs`);
const rate = (r: Run | null) => (r ? r.rate.toFixed(0) : '-');

export function peersTitle(opts: Pick<PeerOptions, 'messages' | 'sessions' | 'size' | 'rounds'>): string {
  return `peers: ${opts.messages} messages of ${opts.size / 1024} KB (Haraka ${Math.min(opts.messages, 2000)}), ${opts.sessions} parallel sessions from smtp-source, median of ${opts.rounds} interleaved rounds; sink: Postfix's smtp-sink (C)`;
}

export function printPeers(rows: PeerRow[]): void {
  console.log(`  ${'relay'.padEnd(44)}${'kept sessions'.padStart(22)}${'one message per connection'.padStart(30)}`);
  console.log(`  ${''.padEnd(44)}${'msg/s'.padStart(10)}${'CPU/msg'.padStart(12)}${'msg/s'.padStart(18)}${'CPU/msg'.padStart(12)}`);
  for (const r of rows) {
    if (!r.kept && !r.single) continue;
    console.log(`  ${r.label.padEnd(44)}${rate(r.kept).padStart(10)}${us(r.kept?.cpu).padStart(12)}${rate(r.single).padStart(18)}${us(r.single?.cpu).padStart(12)}`);
  }
  for (const r of rows) if (r.skipped) console.log(`  skipped ${r.label.trim()}: ${r.skipped}`);
  console.log('  CPU/msg = user + system CPU of the relay\'s own processes per message, from /proc (the sink\'s for the direct row);');
  console.log('  Postfix: its master and every process under it (smtpd per connection, anvil, trivial-rewrite, postlogd)');
}

/** The three ratios of issue 15, as lines; a ratio whose peer was skipped says so. */
export function peerHeadline(rows: PeerRow[]): string[] {
  const by = (id: PeerId) => rows.find((r) => r.id === id);
  const att = by('attitude');
  const ratio = (mode: 'kept' | 'single', id: PeerId, goal: number | null) => {
    const peer = by(id);
    const a = att?.[mode];
    const p = peer?.[mode];
    if (!a || !p) return `- (${peer?.skipped ?? att?.skipped ?? 'not measured'})`;
    const r = a.rate / p.rate;
    const verdict = goal === null ? '' : ` (goal >= ${goal}: ${r >= goal ? 'met' : 'NOT met'})`;
    // the msg/s ratio depends on how the two cores were shared (Postfix forks an smtpd per
    // session onto both, attitude --workers 1 has one); the CPU per message does not
    const cpu = a.cpu !== null && p.cpu !== null && a.cpu > 0 ? `, peer/attitude ${(p.cpu / a.cpu).toFixed(2)}` : '';
    return `${r.toFixed(2)}${verdict}: ${a.rate.toFixed(0)} vs ${p.rate.toFixed(0)} msg/s; CPU per message ${us(a.cpu)} vs ${us(p.cpu)}${cpu}`;
  };
  return [
    'msg/s of attitude / msg/s of the peer (goal), then the CPU each spent per message',
    `(a) one message per connection, attitude --workers 1 / Postfix smtpd_proxy_filter: ${ratio('single', 'postfix', 1.5)}`,
    `(b) kept sessions, attitude --workers 1 / HAProxy mode tcp: ${ratio('kept', 'haproxy', 0.5)}`,
    `(c) attitude --workers 1 / Haraka smtp_forward, as shipped (Nagle on): kept sessions ${ratio('kept', 'haraka', null)}`,
    `    one message per connection ${ratio('single', 'haraka', null)}`,
    `    with TCP_NODELAY on Haraka's sockets: kept sessions ${ratio('kept', 'haraka-nodelay', null)}`,
    `    one message per connection ${ratio('single', 'haraka-nodelay', null)}`,
  ];
}

export function peerOptionsFromEnv(log?: (line: string) => void): PeerOptions {
  return { messages: Number(process.env.BENCH_MESSAGES ?? 4000), sessions: 20, size: 1024, rounds: Number(process.env.BENCH_ROUNDS ?? 3), log };
}

if (process.argv[1] && import.meta.filename === path.resolve(process.argv[1])) {
  const opts = peerOptionsFromEnv((l) => console.log(l));
  console.log(peersTitle(opts));
  const rows = await benchPeers(opts);
  printPeers(rows);
  console.log('headline:');
  for (const line of peerHeadline(rows)) console.log(`  ${line}`);
}
