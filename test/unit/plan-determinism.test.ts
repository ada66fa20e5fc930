import { describe, expect, it } from 'vitest';
import { arrivalTimes } from '../../simulator/arrivals.ts';
import { buildPlan, clientAddress, type MailerPlan } from '../../simulator/plan.ts';
import { rng } from '../../simulator/random.ts';
import { parseScenario } from '../../simulator/scenario/parse.ts';
import { loadScenario } from '../../simulator/scenario/parse.ts';

const scenario = parseScenario({
  name: 'plan',
  seed: 42,
  duration: '10s',
  backends: [{ name: 'mx1' }],
  actors: [
    { name: 'office', kind: 'legit', clients: 20, rate: '5/s', recipients: '1..3', size: '2KB..50KB' },
    { name: 'worm', kind: 'worm', clients: 300, arrival: { type: 'bursts', every: '2s', size: 10, spread: '500ms' } },
    { name: 'flood', kind: 'flood', clients: 3, connections: 50, hold: '5s' },
    { name: 'smug', kind: 'smuggler', rate: '1/s' },
  ],
});

describe('plan', () => {
  it('is identical for the same seed, down to every arrival, size and recipient', () => {
    expect(buildPlan(scenario)).toEqual(buildPlan(scenario));
    expect(buildPlan(scenario, { seed: 7 })).toEqual(buildPlan(scenario, { seed: 7 }));
  });

  it('differs for another seed', () => {
    const a = buildPlan(scenario).actors[0] as MailerPlan;
    const b = buildPlan(scenario, { seed: 43 }).actors[0] as MailerPlan;
    expect(a.messages.map((m) => m.t)).not.toEqual(b.messages.map((m) => m.t));
    expect(a.messages.map((m) => m.to)).not.toEqual(b.messages.map((m) => m.to));
  });

  it('does not shift an actor when another actor is added', () => {
    const more = parseScenario({
      name: 'plan',
      seed: 42,
      duration: '10s',
      backends: [{ name: 'mx1' }],
      actors: [{ name: 'office', kind: 'legit', clients: 20, rate: '5/s', recipients: '1..3', size: '2KB..50KB' }, { name: 'extra', kind: 'spammer', rate: '3/s' }],
    });
    expect((buildPlan(more).actors[0] as MailerPlan).messages).toEqual((buildPlan(scenario).actors[0] as MailerPlan).messages);
  });

  it('gives each actor its own distinct 127.x.y.z client addresses', () => {
    const plan = buildPlan(scenario);
    const all = plan.actors.flatMap((a) => a.clients);
    expect(new Set(all).size).toBe(all.length);
    expect(plan.actors[0].clients[0]).toBe('127.10.0.1');
    expect(plan.actors[1].clients[299]).toBe(clientAddress(1, 299));
    expect(clientAddress(1, 299)).toBe('127.11.1.50');
    for (const a of all) expect(a).toMatch(/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/);
  });

  it('plans messages within the duration, with unique ids, sizes and recipients from the ranges', () => {
    const office = buildPlan(scenario).actors[0] as MailerPlan;
    // Poisson at 5/s over 10 s: about 50
    expect(office.messages.length).toBeGreaterThan(30);
    expect(office.messages.length).toBeLessThan(75);
    const ids = office.messages.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const m of office.messages) {
      expect(m.t).toBeGreaterThanOrEqual(0);
      expect(m.t).toBeLessThan(10_000);
      expect(m.to.length).toBeGreaterThanOrEqual(1);
      expect(m.to.length).toBeLessThanOrEqual(3);
      expect(new Set(m.to).size).toBe(m.to.length);
      expect(m.size).toBeGreaterThanOrEqual(2048);
      expect(m.size).toBeLessThanOrEqual(50 * 1024);
      expect(m.client).toBeLessThan(20);
    }
    expect([...office.messages].sort((a, b) => a.t - b.t)).toEqual(office.messages);
  });

  it('plans bursts, held connections and a smuggling variant cycle', () => {
    const plan = buildPlan(scenario);
    const worm = plan.actors[1] as MailerPlan;
    expect(worm.messages).toHaveLength(50); // bursts at 0, 2, 4, 6, 8 s
    expect(worm.messages.every((m) => m.t % 2000 <= 500)).toBe(true);
    expect(worm.messages[0].attachments[0].name).toBe('invoice.pdf.exe');
    const flood = plan.actors[2];
    if (flood.kind !== 'flood') throw new Error('flood expected');
    expect(flood.connections).toHaveLength(150);
    expect(flood.connections.every((c) => c.holdMs <= 5000 && c.t < 1100)).toBe(true);
    // every (re)connect is planned: the first at t, then one per `reconnect` while the hold lasts
    for (const c of flood.connections) {
      expect(c.tries[0]).toBe(c.t);
      expect(c.tries.every((at, i) => i === 0 || at - c.tries[i - 1] === flood.spec.reconnect)).toBe(true);
      expect(c.tries[c.tries.length - 1]).toBeLessThan(c.t + Math.max(1, c.holdMs));
    }
    const smug = plan.actors[3];
    if (smug.kind !== 'smuggler') throw new Error('smuggler expected');
    expect(smug.smuggles.slice(0, 3).map((s) => s.variant)).toEqual(['lf-dot-lf', 'lf-dot-crlf', 'cr-dot-crlf']);
    expect(smug.smuggles[0].smuggledId).toBe('smug-1-smuggled');
  });

  it('paces constant arrivals evenly and ramps k6-style', () => {
    const constant = arrivalTimes(rng(1), 'constant', { count: 4, perMs: 1000 }, 0, 1000);
    expect(constant).toEqual([0, 250, 500, 750]);
    const ramp = arrivalTimes(rng(1), { type: 'ramp', stages: [{ duration: 10_000, target: { count: 100, perMs: 1000 } }] }, undefined, 0, 10_000);
    // rising linearly from 0 to 100/s: about 500 in all, three times as many in the second half
    expect(ramp.length).toBeGreaterThan(400);
    expect(ramp.length).toBeLessThan(600);
    const late = ramp.filter((t) => t >= 5000).length;
    expect(late / (ramp.length - late)).toBeGreaterThan(2);
  });

  it('scales with a shorter duration override', () => {
    const short = buildPlan(loadScenario('baseline'), { durationMs: 3000 });
    expect(short.durationMs).toBe(3000);
    expect((short.actors[0] as MailerPlan).messages.every((m) => m.t < 3000)).toBe(true);
  });
});
