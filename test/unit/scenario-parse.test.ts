import { describe, expect, it } from 'vitest';
import { InvalidFileError } from '../../proxy/config/problems.ts';
import { catalogueNames, loadScenario, parseScenario, resolveScenario, validateScenarioFile } from '../../simulator/scenario/parse.ts';

const minimal = {
  name: 'mini',
  duration: '10s',
  backends: [{ name: 'mx1' }],
  actors: [{ name: 'office', kind: 'legit', rate: '2/s' }],
};

function problems(data: unknown): Array<{ path: string; message: string }> {
  try {
    parseScenario(data, 'test.yaml');
  } catch (err) {
    if (err instanceof InvalidFileError) return err.problems;
    throw err;
  }
  throw new Error('expected the scenario to be invalid');
}

describe('scenario parsing', () => {
  it('fills the defaults of a minimal scenario and types its values', () => {
    const s = parseScenario(minimal);
    expect(s.duration).toBe(10_000);
    expect(s.seed).toBe(1);
    expect(s.drain).toBe(10_000);
    // no warm-up of its own: the run's default applies (5 s with --target, 0 in-process)
    expect(s.warmup).toBeUndefined();
    expect(parseScenario({ ...minimal, warmup: '2s' }).warmup).toBe(2000);
    expect(problems({ ...minimal, warmup: '5m' })).toEqual([{ path: 'warmup', message: 'expected at most 2m' }]);
    expect(s.backends[0]).toMatchObject({ name: 'mx1', listen: { host: '127.0.0.1', port: 0 }, capacity: 0, tempfail: 0, outages: [] });
    const office = s.actors[0];
    expect(office.kind).toBe('legit');
    if (office.kind !== 'legit') throw new Error('legit expected');
    expect(office.rate).toEqual({ count: 2, perMs: 1000 });
    expect(office.recipients).toEqual({ min: 1, max: 3, dist: 'uniform' });
    expect(office.retry).toEqual({ after: 1000, max: 5, backoff: 2, maxDelay: 10_000 });
  });

  it('reads ranges of counts, sizes and durations', () => {
    const s = parseScenario({
      ...minimal,
      backends: [{ name: 'mx1', latency: '20ms..80ms', outages: [{ from: '2s', to: '4s' }] }],
      actors: [{ name: 'a', kind: 'spammer', rate: '5/s', recipients: '10..20', size: { min: '1KB', max: '1MB', dist: 'log-uniform' } }],
    });
    expect(s.backends[0].latency).toEqual({ min: 20, max: 80, dist: 'uniform' });
    expect(s.backends[0].outages).toEqual([{ from: 2000, to: 4000 }]);
    const a = s.actors[0];
    if (a.kind !== 'spammer') throw new Error('spammer expected');
    expect(a.recipients).toEqual({ min: 10, max: 20, dist: 'uniform' });
    expect(a.size).toEqual({ min: 1024, max: 1024 * 1024, dist: 'log-uniform' });
    expect(a.retry).toBeNull();
  });

  it('lists every problem at once, each with its key path', () => {
    const found = problems({
      name: 'bad',
      duration: 'forever',
      tpyo: 1,
      backends: [{ name: 'mx1', tempfail: 2 }, { name: 'mx1' }],
      actors: [
        { name: 'office', kind: 'legit' },
        { name: 'bots', kind: 'botnet' },
        { name: 'spam', kind: 'spammer', rate: '5/s', recipients: '9..3' },
        { name: 'hold', kind: 'flood', connections: 10, colour: 'red' },
      ],
      expect: { 'latency{actor:office}': ['p(95) < 2000'], 'nonsense_metric': ['< 1'] },
    });
    const paths = found.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining(['duration', 'tpyo', 'backends[0].tempfail', 'actors[1].kind', 'actors[2].recipients', 'actors[3].colour']),
    );
    expect(found.find((p) => p.path === 'actors[1].kind')?.message).toMatch(/expected one of legit, spammer/);
    expect(found.find((p) => p.path === 'duration')?.message).toMatch(/expected a duration like 500ms/);
    expect(found.find((p) => p.path === 'tpyo')?.message).toBe('unknown key');
  });

  it('checks across keys once every value is valid', () => {
    const found = problems({
      ...minimal,
      backends: [{ name: 'mx1', outages: [{ from: '5s', to: '2s' }] }, { name: 'mx1' }],
      actors: [
        { name: 'office', kind: 'legit' },
        { name: 'office', kind: 'legit', rate: '1/s', start: '20s' },
        { name: 'huge', kind: 'spammer', rate: '100000/s' },
      ],
      marks: [{ at: '1m', title: 'too late' }],
      expect: {
        'delivered_ratio{actor:nobody}': ['>= 0.99'],
        'received{backend:mx9}': ['> 0'],
        'nonsense_metric': ['< 1'],
        'latency{actor:office}': ['< 2000', 'p(95) <<< 1'],
        'lost{backend:mx1}': ['== 0'],
      },
    });
    const byPath = Object.fromEntries(found.map((p) => [p.path, p.message]));
    expect(byPath['backends[0].outages[0].to']).toMatch(/after `from`/);
    expect(byPath['backends[1].name']).toMatch(/duplicate backend name/);
    expect(byPath['actors[0].rate']).toMatch(/expected a rate/);
    expect(byPath['actors[1].name']).toMatch(/duplicate actor name/);
    expect(byPath['actors[1].start']).toMatch(/before the actor stops/);
    expect(byPath['actors[2].rate']).toMatch(/expected at most 200000/);
    expect(byPath['marks[0].at']).toMatch(/within the duration/);
    expect(byPath['expect.delivered_ratio{actor:nobody}']).toMatch(/no actor named "nobody"/);
    expect(byPath['expect.received{backend:mx9}']).toMatch(/no backend named "mx9"/);
    expect(byPath['expect.nonsense_metric']).toMatch(/unknown metric/);
    expect(byPath['expect.latency{actor:office}[0]']).toMatch(/needs an aggregation/);
    expect(byPath['expect.latency{actor:office}[1]']).toMatch(/expected a rule/);
    expect(byPath['expect.lost{backend:mx1}']).toMatch(/takes the tags actor, kind/);
  });

  it('parses thresholds into the scenario', () => {
    const s = parseScenario({ ...minimal, expect: { 'delivered_ratio{actor:office}': ['>= 0.99'], lost: '== 0' } });
    expect(s.thresholds.map((t) => [t.key, t.metric, t.tags, t.rules.map((r) => r.source)])).toEqual([
      ['delivered_ratio{actor:office}', 'delivered_ratio', { actor: 'office' }, ['>= 0.99']],
      ['lost', 'lost', {}, ['== 0']],
    ]);
  });

  it('resolves catalogue names and the proxy config relative to the scenario file', () => {
    const file = resolveScenario('baseline');
    expect(file).toMatch(/scenarios\/baseline\.yaml$/);
    const s = loadScenario('baseline');
    expect(s.proxyFile).toMatch(/scenarios\/configs\/default\.yaml$/);
    expect(() => resolveScenario('no-such-scenario')).toThrow(InvalidFileError);
  });

  it('has a valid catalogue: every scenario with a lesson, a short duration and thresholds', () => {
    const names = catalogueNames();
    for (const required of ['baseline', 'spam-flood', 'worm-outbreak', 'connection-flood', 'slowloris', 'early-talkers', 'bandwidth-hog', 'backend-outage', 'weighted-backends', 'open-relay-probe', 'smtp-smuggling', 'mixed-day']) {
      expect(names).toContain(required);
    }
    for (const name of names) {
      const s = loadScenario(name);
      validateScenarioFile(s.file);
      expect(s.lesson.length, name).toBeGreaterThan(100);
      expect(s.duration + s.drain, name).toBeLessThanOrEqual(60_000);
      expect(s.thresholds.length, name).toBeGreaterThan(0);
      expect(s.name).toBe(name);
    }
  });
});

describe('every problem at once', () => {
  it('lists a bad threshold together with the other problems of the file', () => {
    let problems: string[] = [];
    try {
      parseScenario({ name: 'x', duration: 'fast', backends: [], actors: [{ name: 'a', kind: 'legit', rate: '1/s' }], expect: { 'delivered_ratio{actor:a}': ['about 1'] } }, 'x.yaml');
    } catch (err) {
      problems = (err as InvalidFileError).problems.map((p) => p.path);
    }
    expect(problems).toEqual(['duration', 'backends', 'expect.delivered_ratio{actor:a}[0]']);
  });
});
