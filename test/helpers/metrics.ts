// A real /metrics page with something in it, the metric names it declares, and
// promtool's lint of it: for the metrics lint and the Grafana dashboard tests.
import { spawn } from 'node:child_process';
import { adminGet, greeted } from './defenses.ts';
import { backends, message, proxyFor } from './proxy.ts';
import type { Proxy } from '../../proxy/proxy.ts';
import type { MockBackend } from '../../simulator/mock-backend.ts';

/**
 * A proxy with process metrics, after one delivered message, one relay refusal and a
 * throttled client, so every labelled family has samples. The caller closes both.
 */
export async function busyProxy(): Promise<{ proxy: Proxy; mocks: MockBackend[]; metrics: () => Promise<string> }> {
  const mocks = await backends(1);
  const proxy = await proxyFor(mocks, { throttle: { perClient: '64KB/s', global: 'off' } }, [], { processMetrics: true });
  const { c } = await greeted(proxy.address.port, '127.0.91.1');
  await c.send('a@sender.test', ['b@example.test'], message('metrics1', `X-Pad: ${'x'.repeat(100_000)}\r\n`));
  await c.cmd('MAIL FROM:<a@sender.test>');
  await c.cmd('RCPT TO:<someone@elsewhere.test>');
  c.close();
  return { proxy, mocks, metrics: async () => (await adminGet(proxy, '/metrics')).body };
}

/** Every sample name a page can have: its TYPE lines, a histogram's and summary's series included. */
export function declaredNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(m[1]);
    if (m[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m[1] + s);
    if (m[2] === 'summary') for (const s of ['_sum', '_count']) names.add(m[1] + s);
  }
  return names;
}

/** `promtool check metrics` of a page: its exit code and what it said (lint problems). */
export function promtoolCheck(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, output }));
    child.stdin.end(text);
  });
}
