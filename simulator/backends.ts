// The scenario's mock backends: started from their specs (seeded shares and
// latencies) where they are told to listen, wired to the event stream, and taken
// down and up on the outage schedule.
import type { HostPort } from '../proxy/config/fields.ts';
import type { Clock, TimerHandle } from './clock.ts';
import type { EventBus } from './events.ts';
import { MockBackend } from './mock-backend.ts';
import { rng } from './random.ts';
import { draw } from './scenario/ranges.ts';
import type { BackendSpec } from './scenario/schema.ts';

/** A mock backend as a producer of `backend.*` events. */
export function wireBackend(mock: MockBackend, bus: EventBus): void {
  const backend = mock.name;
  mock.events.on('connection', (e) => bus.emit('backend.connection', { backend, ...e }));
  mock.events.on('mail', (e) => bus.emit('backend.mail', { backend, ...e }));
  mock.events.on('closed', (e) => bus.emit('backend.closed', { backend, ...e }));
  mock.events.on('verdict', (e) => bus.emit('backend.verdict', { backend, ...e }));
  mock.events.on('received', (m) =>
    bus.emit('backend.received', { backend, id: m.id, size: m.size, recipients: m.to.length, client: m.xclientAddr ?? m.clientAddress, smuggled: !!m.smuggled, ...(m.unanswered ? { unanswered: true } : {}), to: m.to }),
  );
}

/**
 * The share of messages a mock backend had stored when an outage cut the session
 * between the final dot and its 250. Real servers differ (RFC 1047); half and half
 * makes both cases happen in a scenario, each message's fate drawn from the seed.
 */
const KEPT_ON_DROP = 0.5;

/** The port mock backends count from when a target under test must reach them (`--backend-port`). */
export const DEFAULT_BACKEND_PORT = 2601;

/**
 * Where each backend listens: its own `listen:` when it names a port; otherwise port 0
 * (any free port: the in-process proxy is told), or, from `basePort` on, consecutive
 * ports in scenario order, so a target under test can be configured to relay to them.
 */
export function backendAddresses(specs: readonly BackendSpec[], basePort: number | null): HostPort[] {
  let next = basePort ?? 0;
  return specs.map((s) => (s.listen.port !== 0 || basePort === null ? { ...s.listen } : { host: s.listen.host, port: next++ }));
}

/** `mx1=127.0.0.1:2601, mx2=127.0.0.1:2602` */
export function formatAddresses(named: ReadonlyArray<{ name: string; address: string }>): string {
  return named.map((b) => `${b.name}=${b.address}`).join(', ');
}

/** A mock backend could not listen where it was told (another process has the port). */
export class BackendListenError extends Error {
  constructor(
    readonly backend: string,
    readonly address: HostPort,
    cause: NodeJS.ErrnoException,
  ) {
    super(
      `mock backend ${backend} cannot listen on ${address.host}:${address.port}: ${cause.code === 'EADDRINUSE' ? 'the address is in use (pick other ports with --backend-port N)' : cause.message}`,
    );
  }
}

export class BackendFarm {
  readonly mocks: MockBackend[] = [];
  /** the outages' timers, and the clock they run on */
  private timers: TimerHandle[] = [];
  private clock: Clock | null = null;

  constructor(
    private readonly specs: readonly BackendSpec[],
    private readonly seed: number,
    private readonly bus: EventBus,
  ) {}

  /** Starts every backend, at `addresses` (backendAddresses) or where its spec says. */
  async start(addresses: HostPort[] = backendAddresses(this.specs, null)): Promise<void> {
    for (const [i, spec] of this.specs.entries()) {
      const latency = rng(this.seed, `backend-latency:${spec.name}`);
      const mock = new MockBackend({
        name: spec.name,
        host: addresses[i].host,
        port: addresses[i].port,
        latency: spec.latency.max > 0 ? () => draw(latency, spec.latency) : 0,
        capacity: spec.capacity || undefined,
        tempfail: spec.tempfail,
        reject: spec.reject,
        random: rng(this.seed, `backend:${spec.name}`),
        rate: spec.rate,
        lenientDataEnd: spec.lenientDataEnd,
        keepRaw: false,
        keptOnDrop: (id) => rng(this.seed, `kept-on-drop:${spec.name}:${id}`)() < KEPT_ON_DROP,
      });
      wireBackend(mock, this.bus);
      this.mocks.push(mock);
      try {
        await mock.start();
      } catch (err) {
        throw new BackendListenError(spec.name, addresses[i], err as NodeJS.ErrnoException);
      }
    }
  }

  /** Outage windows, as offsets from now (the run's start). */
  scheduleOutages(clock: Clock): void {
    this.clock = clock;
    this.specs.forEach((spec, i) => {
      const mock = this.mocks[i];
      for (const o of spec.outages) {
        this.timers.push(
          clock.setTimeout(() => {
            this.bus.emit('backend.outage', { backend: spec.name, state: 'down' });
            void mock.down();
          }, o.from),
          clock.setTimeout(() => {
            this.bus.emit('backend.outage', { backend: spec.name, state: 'up' });
            void mock.up();
          }, o.to),
        );
      }
    });
  }

  async stop(): Promise<void> {
    for (const t of this.timers) this.clock?.clearTimeout(t);
    this.timers = [];
    await Promise.all(this.mocks.map((m) => m.stop()));
  }
}
