// The primary of `attitude proxy --workers N`: forks the workers (they share the
// listening port through node:cluster), serves the limit counters (IpcStoreServer)
// and the admin endpoint with the workers' figures merged, and turns signals into
// messages: SIGTERM drains every worker, SIGHUP reloads them all or none.
import cluster, { type Worker } from 'node:cluster';
import http from 'node:http';
import { AggregatorRegistry } from 'prom-client';
import type { Logger } from 'pino';
import type { ProxyConfig } from '../config/schema.ts';
import { IpcStoreServer } from './ipc-store.ts';
import type { FromWorker, ToWorker } from './worker.ts';

export interface PrimaryOptions {
  workers: number;
  logger: Logger;
  /** Loads and validates the config file again (SIGHUP); throws with the problems. */
  reloadConfig: () => ProxyConfig;
}

export async function runPrimary(config: ProxyConfig, o: PrimaryOptions): Promise<number> {
  const store = new IpcStoreServer();
  const workers = new Set<Worker>();
  const asks = new Map<number, (value: unknown) => void>();
  let askSeq = 0;
  let stopping = false;
  let current = config;

  const fork = (): Promise<{ host: string; port: number }> =>
    new Promise((resolve) => {
      const worker = cluster.fork({ ATTITUDE_WORKER_ID: String(workers.size + 1) });
      workers.add(worker);
      store.serve(worker);
      worker.on('message', (msg: FromWorker) => {
        if (msg?.attitude === 'listening') resolve({ host: msg.host, port: msg.port });
        if (msg?.attitude === 'answer') {
          asks.get(msg.id)?.(msg.value);
          asks.delete(msg.id);
        }
      });
      worker.on('exit', (code) => {
        workers.delete(worker);
        if (!stopping) {
          o.logger.error({ msg: 'worker died, starting another', pid: worker.process.pid, code });
          void fork();
        }
      });
    });

  const ask = (what: 'state' | 'metrics'): Promise<unknown[]> =>
    Promise.all(
      [...workers].map(
        (w) =>
          new Promise<unknown>((resolve) => {
            const id = ++askSeq;
            const timer = setTimeout(() => resolve(null), 2000);
            asks.set(id, (v) => {
              clearTimeout(timer);
              resolve(v);
            });
            w.send({ attitude: 'ask', id, what } satisfies ToWorker);
          }),
      ),
    ).then((all) => all.filter((v) => v !== null));

  const listening = await Promise.all(Array.from({ length: o.workers }, () => fork()));
  const admin = config.admin ? await serveAdmin(config.admin.host, config.admin.port, ask) : null;
  o.logger.info({
    msg: 'attitude proxy listening',
    listen: `${listening[0].host}:${listening[0].port}`,
    admin: admin ? `http://${admin.host}:${admin.port}/` : null,
    workers: o.workers,
    backends: config.backends.servers.map((s) => `${s.name}=${s.address!.host}:${s.address!.port}`),
    strategy: config.backends.strategy,
  });

  process.on('SIGHUP', () => {
    try {
      current = o.reloadConfig();
      for (const w of workers) w.send({ attitude: 'reload', config: current } satisfies ToWorker);
      o.logger.info({ msg: 'config reloaded', workers: workers.size });
    } catch (err) {
      o.logger.error({ msg: 'config reload refused', problems: (err as Error).message });
    }
  });

  return new Promise((resolve) => {
    const stop = (signal: string) => {
      if (stopping) process.exit(105);
      stopping = true;
      o.logger.info({ msg: `${signal}: draining`, workers: workers.size, timeoutMs: current.shutdownTimeout });
      for (const w of workers) w.send({ attitude: 'shutdown' } satisfies ToWorker);
      const done = () => {
        if (workers.size > 0) return;
        admin?.server.close();
        o.logger.info({ msg: 'stopped' });
        o.logger.flush(() => resolve(0));
      };
      for (const w of workers) w.once('exit', done);
      done();
      // a worker that does not finish in time is killed
      setTimeout(() => {
        for (const w of workers) w.kill('SIGKILL');
      }, current.shutdownTimeout + 5000).unref();
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}

type Ask = (what: 'state' | 'metrics') => Promise<unknown[]>;

async function serveAdmin(host: string, port: number, ask: Ask): Promise<{ host: string; port: number; server: http.Server }> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    void (async () => {
      if (path === '/metrics') {
        const registry = AggregatorRegistry.aggregate((await ask('metrics')) as Parameters<typeof AggregatorRegistry.aggregate>[0]);
        return reply(200, registry.contentType, await registry.metrics());
      }
      const states = (await ask('state')) as WorkerState[];
      if (path === '/state') return reply(200, 'application/json', JSON.stringify(mergeStates(states), null, 2) + '\n');
      if (path === '/healthz') {
        const up = states.some((s) => s.backends.some((b) => b.health === 'up'));
        return reply(up ? 200 : 503, 'application/json', JSON.stringify({ status: up ? 'ok' : 'no healthy backend', workers: states.length }) + '\n');
      }
      reply(404, 'text/plain', 'not found: try /metrics, /healthz or /state\n');
    })().catch((err) => reply(500, 'text/plain', `error: ${(err as Error).message}\n`));
  });
  await new Promise<void>((resolve) => server.listen(port, host, () => resolve()));
  const a = server.address() as { address: string; port: number };
  return { host: a.address, port: a.port, server };
}

interface WorkerState {
  connections: { active: number; max: number; workerMax?: number; sessions: number; slots: number };
  transactions: { inFlight: number; heldBackBytes: number };
  backends: Array<{ name: string; health: string; active: number; open: number; messages: number; failures: number; idle: number } & Record<string, unknown>>;
  [key: string]: unknown;
}

/** One view of all workers: sums where sums make sense, each worker's own view kept too. */
function mergeStates(states: WorkerState[]) {
  const first = states[0];
  if (!first) return { workers: [] };
  const backends = first.backends.map((b) => {
    const same = states.map((s) => s.backends.find((x) => x.name === b.name)).filter((x) => !!x);
    const sum = (k: 'active' | 'open' | 'messages' | 'failures' | 'idle') => same.reduce((n, x) => n + (x[k] ?? 0), 0);
    return { ...b, health: same.some((x) => x.health === 'up') ? 'up' : 'down', active: sum('active'), open: sum('open'), messages: sum('messages'), failures: sum('failures'), idle: sum('idle') };
  });
  return {
    ...first,
    connections: {
      active: states.reduce((n, s) => n + s.connections.active, 0),
      // each worker reports the configured cap, and its own share of it as workerMax
      max: first.connections.max,
      sessions: states.reduce((n, s) => n + s.connections.sessions, 0),
      slots: states.reduce((n, s) => n + (s.connections.slots ?? 0), 0),
    },
    transactions: { inFlight: states.reduce((n, s) => n + s.transactions.inFlight, 0), heldBackBytes: states.reduce((n, s) => n + s.transactions.heldBackBytes, 0) },
    backends,
    workers: states,
  };
}
