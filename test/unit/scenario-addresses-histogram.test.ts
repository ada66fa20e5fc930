// The two scenario forms an imported log needs: actors with their own client addresses
// (mapped per /24, so per-network limits see the same networks) and a histogram arrival
// (the log's timeline kept in shape, the counts exact).
import { describe, expect, it } from 'vitest';
import { arrivalTimes } from '../../simulator/arrivals.ts';
import { buildPlan, type MailerPlan, type TalkerPlan } from '../../simulator/plan.ts';
import { rng } from '../../simulator/random.ts';
import { parseScenario } from '../../simulator/scenario/parse.ts';

const base = { name: 'imported', duration: '4s', backends: [{ name: 'mx1' }] };

describe('actor addresses', () => {
  it('are the clients, in their order; clients is their count', () => {
    const s = parseScenario({ ...base, actors: [{ name: 'office', kind: 'legit', rate: '2/s', addresses: ['127.20.1.7', '127.20.1.9', '127.31.0.4'] }] });
    expect(s.actors[0].clients).toBe(3);
    const plan = buildPlan(s);
    expect(plan.actors[0].clients).toEqual(['127.20.1.7', '127.20.1.9', '127.31.0.4']);
    for (const m of (plan.actors[0] as MailerPlan).messages) expect(m.client).toBeLessThan(3);
  });

  it('lists every problem: outside 127/8, twice, a clients: that disagrees, beside networks:', () => {
    const parse = () =>
      parseScenario({
        ...base,
        actors: [
          { name: 'office', kind: 'legit', rate: '2/s', clients: 3, addresses: ['127.20.1.7', '127.20.1.7'] },
          { name: 'far', kind: 'legit', rate: '1/s', addresses: ['10.0.0.1'] },
        ],
      });
    expect(parse).toThrow(/actors\[0\]\.clients: expected 2 \(the number of addresses\) or nothing, got 3\n.*actors\[0\]\.addresses\[1\]: 127\.20\.1\.7 is listed twice/);
    expect(parse).toThrow(/actors\[1\]\.addresses\[0\]: expected an IPv4 address in 127\.0\.0\.0\/8/);
    expect(() => parseScenario({ ...base, actors: [{ name: 'bots', kind: 'spammer', rate: '2/s', networks: 2, addresses: ['127.30.0.1', '127.30.1.1'] }] })).toThrow(
      /actors\[0\]\.networks: expected either networks or addresses, not both/,
    );
  });

  it('may not fall where another actor makes up its addresses', () => {
    expect(() =>
      parseScenario({ ...base, actors: [{ name: 'made-up', kind: 'legit', rate: '1/s' }, { name: 'mapped', kind: 'spammer', rate: '1/s', addresses: ['127.10.0.5'] }] }),
    ).toThrow(/actors\[1\]\.addresses\[0\]: 127\.10\.0\.5 is in 127\.10\.0\.0\/16, where actor "made-up" makes up its clients' addresses/);
  });
});

describe('histogram arrivals', () => {
  it('puts exactly counts[i] arrivals in the i-th bucket from the start, sorted', () => {
    const times = arrivalTimes(rng(1, 'h'), { type: 'histogram', bucket: 500, counts: [3, 0, 2, 5] }, undefined, 1000, 10_000);
    expect(times).toHaveLength(10);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const per = [0, 0, 0, 0];
    for (const t of times) per[Math.floor((t - 1000) / 500)]++;
    expect(per).toEqual([3, 0, 2, 5]);
  });

  it('cuts at the end of the window, and is the same for the same seed', () => {
    const spec = { type: 'histogram' as const, bucket: 1000, counts: [4, 4, 4] };
    const cut = arrivalTimes(rng(1, 'h'), spec, undefined, 0, 1500);
    expect(cut.length).toBe(8);
    expect(Math.max(...cut)).toBeLessThan(1500);
    expect(arrivalTimes(rng(9, 'h'), spec, undefined, 0, 5000)).toEqual(arrivalTimes(rng(9, 'h'), spec, undefined, 0, 5000));
  });

  it('drives any arriving actor, and is checked', () => {
    const s = parseScenario({ ...base, actors: [{ name: 'talk', kind: 'early-talker', arrival: { type: 'histogram', bucket: '1s', counts: [1, 2, 3] } }] });
    expect((buildPlan(s).actors[0] as TalkerPlan).connections).toHaveLength(6);
    expect(() => parseScenario({ ...base, actors: [{ name: 'talk', kind: 'early-talker', arrival: { type: 'histogram', counts: [1] } }] })).toThrow(
      /actors\[0\]\.arrival: expected `bucket` \(a duration > 0\) and `counts`/,
    );
  });
});
