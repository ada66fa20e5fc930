// The simulator must not be the bottleneck: how many messages per second its
// actors generate and how many connections they hold, against a mock backend
// in this process, in a process of its own, and through the in-process proxy.
// Run alone: node bin/run-ts.js bench/simulator-capacity.ts
import path from 'node:path';
import { parseProxyConfig } from '../proxy/config/load.ts';
import { Proxy } from '../proxy/proxy.ts';
import type { HostPort } from '../proxy/config/fields.ts';
import { runActors } from '../simulator/harness.ts';
import { MockBackend } from '../simulator/mock-backend.ts';
import { cpuMicros, startBenchChild } from './child-process.ts';

export interface CapacityRow {
  setup: string;
  offered: number;
  messagesPerSecond: number;
  connectionsHeld: number;
  connectionsWanted: number;
  /** CPU per generated message: the simulator's process, and the backend's when it has its own */
  simulatorCpuUs: number;
  backendCpuUs: number | null;
}

async function measure(setup: string, target: HostPort, rate: number, connections: number, backendPid?: number): Promise<CapacityRow> {
  const cpu0 = process.cpuUsage();
  const backend0 = cpuMicros(backendPid);
  const mail = await runActors({
    actors: [{ name: 'load', kind: 'legit', clients: 50, connections: 4, arrival: { type: 'constant', rate: `${rate}/s` }, size: '1KB', recipients: 1, retry: { max: 0 } }],
    targets: [target],
    duration: '3s',
    drain: '20s',
  });
  const outcomes = mail.of('message.outcome').filter((e) => e.outcome === 'accepted');
  const cpu = process.cpuUsage(cpu0);
  const backend1 = cpuMicros(backendPid);
  const perMessage = (us: number) => us / Math.max(1, outcomes.length);
  const first = mail.of('message.queued')[0]?.t ?? 0;
  const last = outcomes.length ? outcomes[outcomes.length - 1].t : first + 1;
  const perClient = 500;
  const clients = Math.ceil(connections / perClient);
  let held = 0;
  let peak = 0;
  const flood = await runActors({
    actors: [{ name: 'hold', kind: 'flood', clients, connections: perClient, hold: '4s', rampUp: '2s', reconnect: '10s', timeout: '10s' }],
    targets: [target],
    duration: '5s',
    drain: '1s',
  });
  for (const e of flood.events) {
    if (e.type === 'conn.greeted') peak = Math.max(peak, ++held);
    else if (e.type === 'conn.closed') held--;
  }
  return {
    setup,
    offered: rate,
    messagesPerSecond: outcomes.length / ((last - first) / 1000),
    connectionsHeld: peak,
    connectionsWanted: clients * perClient,
    simulatorCpuUs: perMessage(cpu.user + cpu.system),
    backendCpuUs: backend0 !== null && backend1 !== null ? perMessage(backend1 - backend0) : null,
  };
}

export async function benchSimulator(rate = 12_000, connections = 5000): Promise<CapacityRow[]> {
  const rows: CapacityRow[] = [];
  // first, on a fresh heap: what the goal is measured by
  const sink = await startBenchChild('mock-sink.ts');
  try {
    rows.push(await measure('mock backend in its own process', { host: '127.0.0.1', port: sink.port }, rate, connections, sink.pid));
  } finally {
    await sink.stop();
  }
  const mock = await new MockBackend({ name: 'mx', keepRaw: false }).start();
  try {
    rows.push(await measure('mock backend in this process', { host: mock.host, port: mock.port }, rate, connections));
    const proxy = await Proxy.start(
      parseProxyConfig({
        listen: '127.0.0.1:0',
        relay: { domains: ['example.test'] },
        connections: { max: connections + 1000, perClient: connections, rate: 'off', perNetwork: connections, networkRate: 'off', greetPause: '0s', stress: { enabled: false }, reserve: { share: 0 } },
        messages: { rate: 'off', senderRate: 'off', recipientRate: 'off' },
        throttle: { perClient: 'off', global: 'off' },
        backends: { servers: [{ name: 'mx', address: mock.address, maxConnections: 200 }] },
      }),
      { processMetrics: false },
    );
    try {
      rows.push(await measure('through the proxy, all in this process', proxy.address, rate, connections));
    } finally {
      await proxy.close(1000);
    }
  } finally {
    await mock.stop();
  }
  return rows;
}

export function printCapacity(rows: CapacityRow[]): void {
  console.log('  setup                                      offered/s   generated msg/s   CPU/msg simulator   backend   connections held');
  for (const r of rows) {
    const backend = r.backendCpuUs === null ? '' : `${r.backendCpuUs.toFixed(0)} µs`;
    console.log(
      `  ${r.setup.padEnd(42)}${String(r.offered).padStart(9)}${r.messagesPerSecond.toFixed(0).padStart(18)}${`${r.simulatorCpuUs.toFixed(0)} µs`.padStart(20)}${backend.padStart(10)}${`${r.connectionsHeld}/${r.connectionsWanted}`.padStart(19)}`,
    );
  }
}

if (process.argv[1] && import.meta.filename === path.resolve(process.argv[1])) {
  const rate = Number(process.env.BENCH_SIM_RATE ?? 12_000);
  const connections = Number(process.env.BENCH_SIM_CONNECTIONS ?? 5000);
  console.log(`simulator capacity: legit mail offered at ${rate}/s for 3 s (1 KB, 50 clients x 4 connections), then ${connections} connections held by a flood`);
  printCapacity(await benchSimulator(rate, connections));
}
