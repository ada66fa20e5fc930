// Bandwidth throttling on inbound bytes (the seed's "senders will have to wait until
// they can send again"). A client's bytes wait for its own token bucket, then for its
// fair share of the global one; while they wait the SMTP parser does not take more,
// so the client socket is paused and TCP backpressure slows the sender itself.
// Nothing is dropped and at most one parser buffer (16 KB) waits per connection.
import type { ProxyConfig } from './config/schema.ts';
import type { ProxyEmitter } from './events.ts';
import { clientKey } from './policy/cidr.ts';
import { GlobalBandwidth, TokenBucket } from './policy/token-bucket.ts';
import type { Clock } from './store/store.ts';

/** Holds a chunk of `bytes` back as long as the limits say; null when it may pass now. */
export type Gate = (bytes: number) => Promise<void> | null;

interface ClientBucket {
  bucket: TokenBucket;
  connections: number;
}

const MIN_REPORTED_WAIT_MS = 5;

/** 100 ms worth of bytes may pass at once: a 400 KB push at 100 KB/s takes ~4 s, not 3. */
function burstOf(rate: number): number {
  return Math.max(4096, Math.floor(rate / 10));
}

export class Throttle {
  private clients = new Map<string, ClientBucket>();
  private global: GlobalBandwidth | null = null;
  private globalRate: number | null = null;

  constructor(
    private readonly config: () => ProxyConfig,
    private readonly events: ProxyEmitter,
    private readonly clock: Clock = Date.now,
  ) {
    this.reload();
  }

  reload(): void {
    const { perClient, global } = this.config().throttle;
    for (const c of this.clients.values()) if (perClient) c.bucket.configure(perClient, burstOf(perClient));
    if (global !== this.globalRate) {
      this.global?.close();
      this.global = global ? new GlobalBandwidth({ rate: global, burst: burstOf(global), clock: this.clock }) : null;
      this.globalRate = global;
    }
  }

  /** The gate for one connection of `ip`; `detach` when it closes. */
  attach(ip: string): { gate: Gate; detach: () => void } {
    const key = clientKey(ip);
    let client = this.clients.get(key);
    if (!client) {
      const rate = this.config().throttle.perClient ?? 1;
      client = { bucket: new TokenBucket(rate, burstOf(rate), this.clock), connections: 0 };
      this.clients.set(key, client);
    }
    client.connections++;
    const own = client;
    const gate: Gate = (bytes) => {
      const perClient = this.config().throttle.perClient;
      const wait = perClient ? own.bucket.take(bytes) : 0;
      const global = this.global;
      if (wait <= 0 && !global) return null;
      const started = this.clock();
      const afterOwn = wait > 0 ? new Promise<void>((r) => setTimeout(r, wait)) : Promise.resolve();
      return afterOwn
        .then(() => global?.consume(key, bytes))
        .then(() => {
          const waited = this.clock() - started;
          // a wait of a few ms is the timer's granularity, not a sender held back
          if (waited >= MIN_REPORTED_WAIT_MS) this.events.emit('throttle', { client: ip, scope: wait > 0 ? 'client' : 'global', bytes, waitMs: waited });
        });
    };
    return {
      gate,
      detach: () => {
        if (--own.connections <= 0) this.clients.delete(key);
      },
    };
  }

  snapshot() {
    const t = this.config().throttle;
    return { perClient: t.perClient, global: t.global, clientsTracked: this.clients.size, globalWaiting: this.global?.waiting() ?? 0 };
  }

  close(): void {
    this.global?.close();
  }
}
