// `node bin/run-ts.js bench/profile.ts [kept|single] [messages]`: where attitude's CPU
// goes. The proxy runs as the peers bench runs it (`--workers 1`, checks and filters
// on, rate limits off, a log line per transaction) under `node --cpu-prof`, takes
// 2000 warm-up messages from smtp-source, then the measured ones; only the samples of
// the measured run count. Prints a text flame graph (µs per message) and the frames
// that spent the most themselves, and leaves the .cpuprofile (Chrome DevTools,
// speedscope) and folded stacks (flamegraph.pl, speedscope) in a temp folder.
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startSink } from '../test/helpers/postfix-tools.ts';
import { cpuMicros } from './child-process.ts';
import { flameLines, foldedStacks, readProfile, selfLines } from './flame.ts';
import { startAttitude } from './relay.ts';
import { smtpSource } from './smtp-source.ts';

const mode = process.argv[2] ?? 'kept';
if (mode !== 'kept' && mode !== 'single') throw new Error(`mode: expected kept or single, not ${mode}`);
const messages = Number(process.argv[3] ?? (mode === 'kept' ? 30_000 : 10_000));
const keep = mode === 'kept';
const load = { sessions: 20, size: 1024 };

const dir = mkdtempSync(path.join(tmpdir(), 'attitude-profile-'));
const sink = await startSink([], false);
const started = Date.now();
const proxy = await startAttitude(sink.address, 1, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
let window = { fromMs: 0, toMs: 0 };
let cpu = 0;
let rate = 0;
try {
  await smtpSource(proxy.port, keep, { ...load, messages: 2000 });
  const before = cpuMicros(proxy.child.pid);
  window.fromMs = Date.now() - started;
  rate = await smtpSource(proxy.port, keep, { ...load, messages });
  window.toMs = Date.now() - started;
  cpu = ((cpuMicros(proxy.child.pid) ?? 0) - (before ?? 0)) / messages;
} finally {
  await proxy.stop();
  await sink.stop();
}
// one profile per thread (the module loader has one of its own): the main thread's is the largest
const file = readdirSync(dir)
  .filter((f) => f.endsWith('.cpuprofile'))
  .sort((a, b) => statSync(path.join(dir, b)).size - statSync(path.join(dir, a)).size)[0];
if (!file) throw new Error(`no profile was written to ${dir}`);
// the profile starts when node does, a little after the spawn: a margin keeps the warm-up out
window = { fromMs: window.fromMs + 100, toMs: window.toMs };
const profile = readProfile(path.join(dir, file), window);
writeFileSync(path.join(dir, 'folded.txt'), foldedStacks(profile));

const label = keep ? 'kept sessions' : 'one message per connection';
console.log(`attitude --workers 1, ${label}: ${messages} messages of 1 KB from smtp-source (20 sessions) into smtp-sink`);
console.log(`${rate.toFixed(0)} msg/s; CPU ${cpu.toFixed(0)} µs per message from /proc (user + system, all threads);`);
console.log(`the profile sampled the main thread busy ${(profile.busy / messages).toFixed(0)} µs per message (time in a system call counts as its JS caller's)\n`);
console.log('flame graph, top-down (share of the busy time, µs per message, frames of 2 % and more):');
for (const line of flameLines(profile, messages)) console.log(`  ${line}`);
console.log('\nspent in the frame itself:');
for (const line of selfLines(profile, messages)) console.log(`  ${line}`);
console.log(`\nprofile: ${path.join(dir, file)}\nfolded stacks: ${path.join(dir, 'folded.txt')}`);
