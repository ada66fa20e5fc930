// summary.json (DESIGN.md "Run outputs"): the ledger of the run and its
// thresholds, as one JSON document. Built from the event stream's ledger.
import type { LedgerResult, MessageCounts } from './ledger.ts';
import type { InstancesResult } from './instances.ts';
import { metricSource } from './metrics.ts';
import { evaluate, type Threshold, type ThresholdResult } from './thresholds.ts';

export interface RunSummary {
  scenario: string;
  seed: number;
  durationMs: number;
  elapsedMs: number;
  target: string;
  proxyConfig: string | null;
  interrupted: boolean;
  actors: Record<
    string,
    {
      kind: string;
      clients: number;
      messages: MessageCounts;
      connections: { attempted: number; refused: number; greeted: number };
      latencyMs: { p50: number | null; p95: number | null; p99: number | null };
      bytesDelivered: number;
      refusals: Record<string, number>;
      /** connections that ended without an SMTP reply, by cause: infrastructure, not the target's defenses */
      failures: Record<string, number>;
      relay?: { probes: number; accepted: number; acceptedTricks: string[] };
      smuggling?: { sent: number; smuggled: number; smuggledVariants: string[] };
      early?: { refused: number; greeted: number; other: number };
    }
  >;
  backends: Record<string, { address: string; received: number; peakConnections: number; foreignConnections: number; refusedConnections: number; tempfailed: number; rejected: number }>;
  ledger: { acceptedByProxy: number; receivedByBackends: number; lost: number; duplicates: number; unconfirmedRedeliveries: number; unconfirmed: number; foreign: number };
  thresholds: ThresholdResult[];
  passed: boolean;
  /** how the load spread over the proxy instances, and the most connections one client held across them */
  proxies?: InstancesResult;
}

export interface SummaryContext {
  target: string;
  proxyConfig: string | null;
  interrupted: boolean;
}

export function buildSummary(result: LedgerResult, thresholds: readonly Threshold[], ctx: SummaryContext): RunSummary {
  const checked = evaluate(thresholds, metricSource(result));
  const actors: RunSummary['actors'] = {};
  for (const a of result.actors) {
    actors[a.name] = {
      kind: a.kind,
      clients: a.clients,
      messages: a.messages,
      connections: a.connections,
      latencyMs: a.latencyMs,
      bytesDelivered: a.bytesDelivered,
      refusals: a.refusals,
      failures: a.failures,
      ...(a.kind === 'relay-prober' ? { relay: a.relay } : {}),
      ...(a.kind === 'smuggler' ? { smuggling: a.smuggling } : {}),
      ...(a.kind === 'early-talker' ? { early: a.early } : {}),
    };
  }
  const backends: RunSummary['backends'] = {};
  for (const b of result.backends) {
    const { name, ...rest } = b;
    backends[name] = rest;
  }
  return {
    scenario: result.scenario,
    seed: result.seed,
    durationMs: result.durationMs,
    elapsedMs: result.elapsedMs,
    target: ctx.target,
    proxyConfig: ctx.proxyConfig,
    interrupted: ctx.interrupted,
    actors,
    backends,
    ledger: result.ledger,
    thresholds: checked,
    passed: !ctx.interrupted && checked.every((t) => t.ok),
  };
}
