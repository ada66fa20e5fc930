// Defense under pressure: an office MTA sending through the proxy on its defaults
// (only relay.domains and one backend) while 100 addresses, one per /24, hold 12
// connections each by dripping a byte every 10 s, 1200 wanted against 1000 places.
// The baseline is the same office with nobody dripping, measured in the same run;
// the "stress off" row is the proxy as it was before stress mode, the reserve and
// the command deadline (what an idle timeout alone does).
// Run alone: node bin/run-ts.js bench/slowloris.ts
import path from 'node:path';
import { parseProxyConfig } from '../proxy/config/load.ts';
import { Proxy } from '../proxy/proxy.ts';
import { runActors } from '../simulator/harness.ts';
import { MockBackend } from '../simulator/mock-backend.ts';

export interface PressureRow {
  setup: string;
  attempted: number;
  delivered: number;
  p95: number | null;
}

const OFFICE = { name: 'office', kind: 'legit', clients: 1, start: '4s', rate: '1/2s', arrival: 'constant', reuse: 1, retry: { after: '2s', max: 3 } };
const LORIS = { name: 'loris', kind: 'slowloris', clients: 100, networks: 100, connections: 12, hold: '30s', drip: '10s', rampUp: '3s', reconnect: '3s' };

async function measure(setup: string, connections: Record<string, unknown>, dripping: boolean): Promise<PressureRow> {
  const mock = await new MockBackend({ name: 'mx', keepRaw: false }).start();
  const proxy = await Proxy.start(
    parseProxyConfig({ listen: '127.0.0.1:0', relay: { domains: ['example.test'] }, connections, backends: { servers: [{ name: 'mx', address: mock.address }] }, log: { level: 'silent' } }),
    { processMetrics: false },
  );
  try {
    const r = await runActors({ actors: dripping ? [OFFICE, LORIS] : [OFFICE], targets: [proxy.address], backends: [mock], duration: '30s', drain: '10s', seed: 5 });
    const office = r.ledger.actors.find((a) => a.name === 'office')!;
    return { setup, attempted: office.messages.attempted, delivered: office.messages.delivered, p95: office.latencyMs.p95 };
  } finally {
    await proxy.close(1000);
    await mock.stop();
  }
}

export async function benchPressure(): Promise<PressureRow[]> {
  return [
    await measure('office alone (baseline)', {}, false),
    await measure('defaults, 100 addresses dripping', {}, true),
    await measure('stress off, no reserve, no deadline', { stress: { enabled: false }, reserve: { share: 0 }, commandDeadline: '1h' }, true),
  ];
}

export function printPressure(rows: PressureRow[]): void {
  const base = rows[0];
  console.log('  setup                                   office delivered        p95   p95/baseline');
  for (const r of rows) {
    const share = r.attempted ? (100 * r.delivered) / r.attempted : 0;
    const ratio = r.p95 !== null && base.p95 ? (r.p95 / base.p95).toFixed(1) + 'x' : '-';
    console.log(`  ${r.setup.padEnd(38)}${`${r.delivered}/${r.attempted} (${share.toFixed(0)} %)`.padStart(18)}${(r.p95 === null ? '-' : `${r.p95} ms`).padStart(11)}${ratio.padStart(15)}`);
  }
}

export const PRESSURE_TITLE = 'under pressure: an office MTA (1 message / 2 s, one per connection) on the proxy defaults while 100 addresses in 100 /24s drip 12 connections each (1 byte / 10 s)';

if (process.argv[1] && import.meta.filename === path.resolve(process.argv[1])) {
  console.log(PRESSURE_TITLE);
  printPressure(await benchPressure());
}
