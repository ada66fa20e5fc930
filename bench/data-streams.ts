// Memory against concurrent DATA streams (issue 15): N clients, each in the middle of a
// 1 MB message at the same time, through attitude --workers 1 (a process of its own,
// fresh for each N) into smtp-sink: the proxy's RSS idle, with every session at 354
// and nothing sent, and with half of every message sent; and whether all N are then
// delivered. Raw sockets of our own, bounded in connections and time.
// Run alone: node bin/run-ts.js bench/data-streams.ts   (BENCH_STREAMS=100,500,1000)
import net from 'node:net';
import path from 'node:path';
import { startSink } from '../test/helpers/postfix-tools.ts';
import { cpuMicros } from './child-process.ts';
import { startCliProxy } from './cli-proxy.ts';
import { rssOf } from './proc.ts';
import { smtpSource } from './smtp-source.ts';

export interface StreamsRow {
  streams: number;
  rssIdleMb: number;
  rssInDataMb: number;
  /** a quarter and half of every message sent: RSS that grows between the two is the messages held */
  rssQuarterMb: number;
  rssMidMb: number;
  kbPerStream: number;
  delivered: number;
  /** what went wrong, if not every stream got its 250 */
  note?: string;
}

const MB = 1024 * 1024;
// 80-byte lines, 819 to a chunk: 65,520 bytes; 16 chunks make the 1 MB message
const LINE = 'X'.repeat(78) + '\r\n';
const CHUNK = Buffer.from(LINE.repeat(819));
const CHUNKS = 16;

/** One raw SMTP client: commands one at a time, each resolving with its reply code. */
class RawStream {
  private buf = '';
  private waiting: ((code: number) => void) | null = null;
  /** the last reply line, for the error of an unexpected code */
  last = '';
  /** the banner's code, waited for from before the connection is up */
  readonly banner: Promise<number>;
  private constructor(readonly socket: net.Socket) {
    this.banner = this.reply();
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.buf += d;
      let i;
      while ((i = this.buf.indexOf('\r\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 2);
        // the last line of a reply: code and a space
        if (/^\d{3}( |$)/.test(line) && this.waiting) {
          this.last = line;
          const w = this.waiting;
          this.waiting = null;
          w(Number(line.slice(0, 3)));
        }
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => this.waiting?.(0));
  }

  static open(port: number): Promise<RawStream> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port, noDelay: true }, () => resolve(stream));
      const stream = new RawStream(s);
      s.once('error', reject);
    });
  }

  reply(): Promise<number> {
    return new Promise((r) => (this.waiting = r));
  }

  async cmd(line: string, want: number): Promise<void> {
    const reply = this.reply();
    this.socket.write(`${line}\r\n`);
    const code = await reply;
    if (code !== want) throw new Error(`${line.split(' ')[0]}: ${code ? this.last : 'connection closed'} (wanted ${want})`);
  }

  /** Writes `chunks` of the body; resolves once they are handed to the kernel. */
  write(chunks: number): Promise<void> {
    for (let i = 0; i < chunks - 1; i++) this.socket.write(CHUNK);
    return new Promise((r) => this.socket.write(CHUNK, () => r()));
  }
}

/** Runs `fn` over `items`, at most `limit` at a time. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

/** Waits until `pid` has nearly stopped spending CPU (the streams it holds are drained), at most `maxMs`. */
async function settled(pid: number, maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs;
  let last = cpuMicros(pid) ?? 0;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    const now = cpuMicros(pid) ?? 0;
    if (now - last < 20_000) return;
    last = now;
  }
}

async function measure(sinkAddress: string, n: number, deadlineMs: number): Promise<StreamsRow> {
  const proxy = await startCliProxy(
    [
      'connections: { max: 20000, perClient: 20000, rate: off, perNetwork: 20000, networkRate: off }',
      'messages: { rate: off, senderRate: off, recipientRate: off, maxSize: 50MB }',
      'throttle: { perClient: off, global: off }',
      'relay: { domains: [example.test] }',
      `backends: { servers: [{ name: sink, address: ${sinkAddress}, maxConnections: ${n + 100} }] }`,
    ],
    1,
  );
  const pid = proxy.child.pid!;
  const streams: RawStream[] = [];
  const deadline = setTimeout(() => {
    for (const s of streams) s.socket.destroy();
  }, deadlineMs);
  try {
    // warm the proxy up with ordinary traffic, so idle is a proxy that has worked
    await smtpSource(proxy.port, true, { sessions: 20, messages: 2000, size: 1024, timeoutMs: 60_000 });
    await settled(pid, 5000);
    const rssIdle = rssOf(pid);
    const ids = Array.from({ length: n }, (_, i) => i);
    // the sessions open 100 at a time, so the accept queue is not what is measured
    await pool(ids, 100, async (i) => {
      const s = await RawStream.open(proxy.port);
      streams.push(s);
      if ((await s.banner) !== 220) throw new Error('no 220 banner');
      await s.cmd('EHLO streams.test', 250);
      await s.cmd('MAIL FROM:<streams@sender.test>', 250);
      await s.cmd(`RCPT TO:<s${i}@example.test>`, 250);
      await s.cmd('DATA', 354);
    });
    await settled(pid, 5000);
    const rssInData = rssOf(pid);
    const head = `From: <streams@sender.test>\r\nTo: <s@example.test>\r\nSubject: stream\r\nMessage-ID: <stream-${Date.now()}@sender.test>\r\n\r\n`;
    await Promise.all(streams.map((s) => (s.socket.write(head), s.write(CHUNKS / 4))));
    await settled(pid, 15_000);
    const rssQuarter = rssOf(pid);
    await Promise.all(streams.map((s) => s.write(CHUNKS / 4)));
    await settled(pid, 15_000);
    const rssMid = rssOf(pid);
    let delivered = 0;
    const failures = new Map<string, number>();
    await Promise.all(
      streams.map(async (s) => {
        try {
          await s.write(CHUNKS / 2);
          await s.cmd('.', 250);
          delivered++;
          await s.cmd('QUIT', 221);
        } catch (err) {
          const why = (err as Error).message;
          failures.set(why, (failures.get(why) ?? 0) + 1);
        }
      }),
    );
    return {
      streams: n,
      rssIdleMb: rssIdle / MB,
      rssInDataMb: rssInData / MB,
      rssQuarterMb: rssQuarter / MB,
      rssMidMb: rssMid / MB,
      kbPerStream: (rssMid - rssIdle) / n / 1024,
      delivered,
      note: failures.size ? [...failures].map(([why, count]) => `${count} x ${why}`).join('; ') : undefined,
    };
  } finally {
    clearTimeout(deadline);
    for (const s of streams) s.socket.destroy();
    await proxy.stop();
  }
}

export async function benchStreams(counts: number[], deadlineMs = 180_000): Promise<StreamsRow[]> {
  // smtp-sink serves 256 sessions at once unless told otherwise (-m)
  const sink = await startSink(['-m', String(Math.max(...counts) + 200)], false);
  const rows: StreamsRow[] = [];
  try {
    for (const n of counts) rows.push(await measure(sink.address, n, deadlineMs));
  } finally {
    await sink.stop();
  }
  return rows;
}

export function streamCounts(): number[] {
  return (process.env.BENCH_STREAMS ?? '100,500,1000').split(',').map(Number).filter((n) => n > 0);
}

export const STREAMS_TITLE = 'memory: N clients each in the middle of a 1 MB message at once, through attitude --workers 1 (fresh per N, after 2000 warm-up messages) into smtp-sink';

export function printStreams(rows: StreamsRow[]): void {
  console.log('  streams   RSS idle   all at 354, 0 B sent   256 KB of each sent   512 KB of each sent   KB per stream   delivered');
  for (const r of rows) {
    console.log(
      `  ${String(r.streams).padEnd(8)}${`${r.rssIdleMb.toFixed(0)} MB`.padStart(10)}${`${r.rssInDataMb.toFixed(0)} MB`.padStart(23)}${`${r.rssQuarterMb.toFixed(0)} MB`.padStart(22)}${`${r.rssMidMb.toFixed(0)} MB`.padStart(22)}${r.kbPerStream.toFixed(1).padStart(16)}${`${r.delivered}/${r.streams}`.padStart(12)}`,
    );
    if (r.note) console.log(`    not delivered: ${r.note}`);
  }
  console.log('  KB per stream = (RSS with 512 KB of each message sent - RSS idle) / N: session, backend connection and the stages\' buffers');
}

if (process.argv[1] && import.meta.filename === path.resolve(process.argv[1])) {
  console.log(STREAMS_TITLE);
  printStreams(await benchStreams(streamCounts()));
}
