// The proxy under test as a producer of events: the in-process proxy's own
// diagnostics (refusals, failovers, health, transactions), throttle samples
// summed per window, and its state sampled every `sampleMs` (from the admin
// endpoint's GET /state when the proxy is external but ours).
import http from 'node:http';
import type { HostPort } from '../proxy/config/fields.ts';
import type { Proxy } from '../proxy/proxy.ts';
import type { EventBus } from './events.ts';

const BRIDGED = ['connection', 'refusal', 'failover', 'health', 'transaction', 'warning', 'reload', 'stress'] as const;

export class ProxyBridge {
  private timer: NodeJS.Timeout | null = null;
  private throttle = new Map<number, { clients: Set<string>; bytes: number; waitMs: number }>();
  private unsubscribe: Array<() => void> = [];

  constructor(
    private readonly bus: EventBus,
    private readonly sampleMs = 500,
  ) {}

  attach(proxy: Proxy, instance: number): void {
    for (const name of BRIDGED) {
      const listener = (data: unknown) => this.bus.emit('proxy.event', { instance, name, data });
      (proxy.events as unknown as NodeJS.EventEmitter).on(name, listener);
      this.unsubscribe.push(() => (proxy.events as unknown as NodeJS.EventEmitter).off(name, listener));
    }
    const onThrottle = (e: { client: string; bytes: number; waitMs: number }) => {
      const w = this.throttle.get(instance) ?? { clients: new Set<string>(), bytes: 0, waitMs: 0 };
      w.clients.add(e.client);
      w.bytes += e.bytes;
      w.waitMs += e.waitMs;
      this.throttle.set(instance, w);
    };
    proxy.events.on('throttle', onThrottle);
    this.unsubscribe.push(() => proxy.events.off('throttle', onThrottle));
  }

  /** Samples state every `sampleMs`: from in-process proxies, or over HTTP from admin endpoints. */
  start(proxies: Proxy[], admins: HostPort[] = []): void {
    this.timer = setInterval(() => {
      proxies.forEach((p, instance) => this.bus.emit('proxy.state', { instance, state: p.state() }));
      admins.forEach((a, instance) => void fetchState(a).then((state) => state !== null && this.bus.emit('proxy.state', { instance, state })));
      this.flushThrottle();
    }, this.sampleMs);
    this.timer.unref();
  }

  private flushThrottle(): void {
    for (const [instance, w] of this.throttle) {
      this.bus.emit('throttle', { instance, windowMs: this.sampleMs, clients: w.clients.size, bytes: w.bytes, waitMs: Math.round(w.waitMs) });
    }
    this.throttle.clear();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.flushThrottle();
    for (const u of this.unsubscribe.splice(0)) u();
  }
}

function fetchState(admin: HostPort): Promise<unknown> {
  return new Promise((resolve) => {
    const req = http.get({ host: admin.host, port: admin.port, path: '/state', timeout: 400 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch {
          resolve(null);
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });
}
