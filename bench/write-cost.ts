// `node bin/run-ts.js bench/write-cost.ts`: what a loopback write costs a server in the
// kernel, depending on how busy it is. The same scripted SMTP answers (bench/canned-smtp.ts:
// 4 writes and 4 reads per message on kept sessions) to smtp-source's 20 sessions, once
// at once and once after busying the CPU 60 µs before each reply. On a virtual machine
// the slow one pays about twice the system time for the same syscalls: its peer sits
// idle between replies, and each write must wake it. A relay that does real work pays
// that too, so its writes cost it more than a byte splice's cost the splice.
import { cpuTimes, startBenchChild } from './child-process.ts';
import { smtpSource } from './smtp-source.ts';

const messages = Number(process.env.BENCH_MESSAGES ?? 15_000);
const load = { sessions: 20, size: 1024 };
console.log(`write cost: a scripted SMTP server (no relay), ${messages} messages of 1 KB on kept sessions from smtp-source (20 sessions)`);
console.log('  work before each reply   msg/s   user µs/msg   system µs/msg (4 writes + 4 reads)');
for (const burn of [0, 60]) {
  const server = await startBenchChild('canned-smtp.ts', [String(burn)]);
  try {
    await smtpSource(server.port, true, { ...load, messages: 2000 });
    const before = cpuTimes(server.pid);
    const rate = await smtpSource(server.port, true, { ...load, messages });
    const after = cpuTimes(server.pid);
    const per = (k: 'user' | 'system') => (before && after ? ((after[k] - before[k]) / messages).toFixed(0) : '-');
    console.log(`  ${`${burn} µs`.padEnd(23)}${rate.toFixed(0).padStart(7)}${per('user').padStart(14)}${per('system').padStart(16)}`);
  } finally {
    await server.stop();
  }
}
