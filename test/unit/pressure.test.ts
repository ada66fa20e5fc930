// Stress mode and the known-good reserve without sockets: an injected clock, fake sessions.
import { describe, expect, it } from 'vitest';
import { proxyConfigSchema } from '../../proxy/config/schema.ts';
import { ProxyEmitter } from '../../proxy/events.ts';
import { KnownClients, Pressure, type Sheddable } from '../../proxy/pressure.ts';

function setup(connections: Record<string, unknown> = {}) {
  const t = { now: 1_000_000 };
  const config = proxyConfigSchema.parse({ connections: { max: 100, stress: { threshold: 0.7, release: 0.6, idleTimeout: '10s', commandDeadline: '5s' }, ...connections } });
  const events = new ProxyEmitter();
  const changes: boolean[] = [];
  events.on('stress', (e) => changes.push(e.active));
  const pressure = new Pressure(() => config, events, () => t.now);
  return { t, pressure, changes };
}

/** A session idle since `since` (or busy at the proxy's side: null). */
function session(since: number | null): Sheddable & { shedded: boolean } {
  const s = { shedded: false, idleFor: (now: number) => (since === null ? 0 : now - since), shed: () => void (s.shedded = true) };
  return s;
}

describe('stress mode', () => {
  it('begins at threshold x max and ends below release x max, not at the same edge (hysteresis)', () => {
    const { pressure, changes } = setup();
    for (const n of [50, 69, 70, 75, 65, 61, 60, 59, 69, 70]) pressure.update(n);
    expect(changes).toEqual([true, false, true]);
  });

  it('shrinks the idle timeout and the command deadline while it lasts', () => {
    const { pressure } = setup({ idleTimeout: '5m', commandDeadline: '1m' });
    expect([pressure.idleTimeout(), pressure.commandDeadline()]).toEqual([300_000, 60_000]);
    pressure.update(80);
    expect([pressure.idleTimeout(), pressure.commandDeadline()]).toEqual([10_000, 5_000]);
    pressure.update(10);
    expect(pressure.idleTimeout()).toBe(300_000);
  });

  it('sheds the session that has waited longest for its client, never one busy or idle for less than a second', () => {
    const { t, pressure } = setup();
    const now = t.now;
    const busy = session(null);
    const fresh = session(now - 500);
    const slow = session(now - 30_000);
    const slower = session(now - 60_000);
    expect(pressure.shedIdlest([busy, fresh, slow, slower])).toBe(false); // no stress: nobody is shed
    pressure.update(90);
    expect(pressure.shedIdlest([busy, fresh, slow, slower])).toBe(true);
    expect([busy, fresh, slow, slower].map((s) => s.shedded)).toEqual([false, false, false, true]);
    expect(pressure.shedIdlest([busy, fresh])).toBe(false);
    expect(pressure.snapshot()).toMatchObject({ active: true, shed: 1, threshold: 70, release: 60 });
  });
});

describe('known-good clients', () => {
  it('are remembered for `remember`, at most `size` of them, the oldest forgotten first', () => {
    const limits = { remember: 1000, size: 2 };
    const known = new KnownClients(() => limits);
    known.remember('192.0.2.1', 0);
    known.remember('192.0.2.2', 10);
    expect(known.has('192.0.2.1', 500)).toBe(true);
    expect(known.has('192.0.2.1', 1001)).toBe(false);
    known.remember('192.0.2.3', 20);
    known.remember('192.0.2.4', 30);
    expect(known.size).toBe(2);
    expect(known.has('192.0.2.2', 40)).toBe(false);
    expect(known.has('192.0.2.4', 40)).toBe(true);
  });

  it('counts IPv6 clients by /64, as the other per-client limits do', () => {
    const known = new KnownClients(() => ({ remember: 1000, size: 10 }));
    known.remember('2001:db8:1:2::7', 0);
    expect(known.has('2001:db8:1:2::99', 1)).toBe(true);
    expect(known.has('2001:db8:1:3::7', 1)).toBe(false);
  });
});
