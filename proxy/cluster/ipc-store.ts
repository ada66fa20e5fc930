// Limits stay exact across `--workers` with the memory store: the counters live in
// the primary process and workers ask it over the cluster IPC channel. One store, so
// a client spread over several workers meets one per-client limit. The primary
// forgets a worker's slots when the worker dies, so a crash never locks a client out.
import type { Worker } from 'node:cluster';
import { MemoryStore } from '../store/memory-store.ts';
import type { AcquireResult, CounterStore, HitResult } from '../store/store.ts';

type Op = 'hit' | 'acquire' | 'release' | 'current' | 'remember' | 'increment' | 'count';

interface Request {
  attitudeStore: 'request';
  id: number;
  op: Op;
  args: unknown[];
}

interface Response {
  attitudeStore: 'response';
  id: number;
  result?: unknown;
  error?: string;
}

/** The worker side: a CounterStore whose every call is answered by the primary. */
export class IpcStore implements CounterStore {
  private seq = 0;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly onMessage = (msg: Response) => {
    if (!msg || msg.attitudeStore !== 'response') return;
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.error) p.reject(new Error(msg.error));
    else p.resolve(msg.result);
  };

  constructor(private readonly channel: NodeJS.Process = process) {
    channel.on('message', this.onMessage);
  }

  private call<T>(op: Op, args: unknown[]): Promise<T> {
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.channel.send!({ attitudeStore: 'request', id, op, args } satisfies Request);
    });
  }

  hit(key: string, limit: number, windowMs: number, cost = 1): Promise<HitResult> {
    return this.call('hit', [key, limit, windowMs, cost]);
  }
  acquire(key: string, limit: number): Promise<AcquireResult> {
    return this.call('acquire', [key, limit]);
  }
  release(key: string): Promise<void> {
    return this.call('release', [key]);
  }
  current(key: string): Promise<number> {
    return this.call('current', [key]);
  }
  remember(key: string, value: number, ttlMs: number): Promise<number> {
    return this.call('remember', [key, value, ttlMs]);
  }
  increment(key: string, ttlMs: number): Promise<number> {
    return this.call('increment', [key, ttlMs]);
  }
  count(key: string): Promise<number> {
    return this.call('count', [key]);
  }
  async close(): Promise<void> {
    this.channel.off('message', this.onMessage);
  }
}

/** The primary side: one MemoryStore serving every worker. */
export class IpcStoreServer {
  private readonly store = new MemoryStore(Date.now);
  /** slots each worker holds, so they can be freed when it dies */
  private readonly held = new Map<Worker, Map<string, number>>();

  serve(worker: Worker): void {
    const slots = new Map<string, number>();
    this.held.set(worker, slots);
    worker.on('message', (msg: Request) => {
      if (!msg || msg.attitudeStore !== 'request') return;
      void this.answer(msg, slots).then((response) => {
        if (worker.isConnected()) worker.send(response);
      });
    });
    worker.once('exit', () => void this.forget(worker));
  }

  private async answer(msg: Request, slots: Map<string, number>): Promise<Response> {
    const [key] = msg.args as [string];
    try {
      let result: unknown;
      switch (msg.op) {
        case 'hit': {
          const [, limit, windowMs, cost] = msg.args as [string, number, number, number];
          result = await this.store.hit(key, limit, windowMs, cost);
          break;
        }
        case 'acquire': {
          const r = await this.store.acquire(key, (msg.args as [string, number])[1]);
          if (r.allowed) slots.set(key, (slots.get(key) ?? 0) + 1);
          result = r;
          break;
        }
        case 'release':
          if ((slots.get(key) ?? 0) > 0) {
            slots.set(key, slots.get(key)! - 1);
            await this.store.release(key);
          }
          break;
        case 'current':
          result = await this.store.current(key);
          break;
        case 'remember': {
          const [, value, ttl] = msg.args as [string, number, number];
          result = await this.store.remember(key, value, ttl);
          break;
        }
        case 'increment':
          result = await this.store.increment(key, (msg.args as [string, number])[1]);
          break;
        case 'count':
          result = await this.store.count(key);
          break;
      }
      return { attitudeStore: 'response', id: msg.id, result };
    } catch (err) {
      return { attitudeStore: 'response', id: msg.id, error: (err as Error).message };
    }
  }

  private async forget(worker: Worker): Promise<void> {
    const slots = this.held.get(worker);
    this.held.delete(worker);
    if (!slots) return;
    for (const [key, n] of slots) for (let i = 0; i < n; i++) await this.store.release(key);
  }
}
