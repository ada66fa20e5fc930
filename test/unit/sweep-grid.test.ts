// The grid of a sweep: --vary options parsed as the config schema parses a file, every
// problem listed with its key path before anything runs, every combination in order,
// and best.yaml: the base file with its comments, the chosen values set.
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseProxyConfig } from '../../proxy/config/load.ts';
import { configWithValues, relocateSchemaLine } from '../../simulator/sweep/best-config.ts';
import { buildGrid, keyPath, parseVary, setAt, splitValues } from '../../simulator/sweep/grid.ts';
import { problems as listed } from '../helpers/problems.ts';

const BASE_TEXT = `# the base
relay:
  domains: [example.test] # served
connections:
  perClient: 10 # per address
messages:
  rate: 60/1m
`;
const base = parseYaml(BASE_TEXT);
const grid = (vary: string[], maxRuns = 30) => buildGrid(vary, { base, baseFile: 'base.yaml', maxRuns });
const problems = (vary: string[], maxRuns = 30): string[] => listed(() => grid(vary, maxRuns));

describe('--vary', () => {
  it('reads key paths and values as a config file would', () => {
    expect(keyPath('connections.perClient')).toEqual(['connections', 'perClient']);
    expect(keyPath('backends.servers[0].weight')).toEqual(['backends', 'servers', 0, 'weight']);
    expect(keyPath('a..b')).toBeNull();
    expect(splitValues('off,60/1m, [a, b],{ x: 1, y: 2 },"a,b"')).toEqual(['off', '60/1m', '[a, b]', '{ x: 1, y: 2 }', '"a,b"']);
    const { varies } = parseVary(['connections.perClient=2,5', 'messages.rate=off,30/1m', 'connections.allow=[10.0.0.0/8],[]']);
    expect(varies.map((v) => v.values)).toEqual([[2, 5], ['off', '30/1m'], [['10.0.0.0/8'], []]]);
  });

  it('makes every combination, the first key changing slowest, each a parsed config', () => {
    const { points } = grid(['connections.perClient=2,5', 'messages.rate=off,30/1m']);
    expect(points.map((p) => p.values)).toEqual([
      { 'connections.perClient': '2', 'messages.rate': 'off' },
      { 'connections.perClient': '2', 'messages.rate': '30/1m' },
      { 'connections.perClient': '5', 'messages.rate': 'off' },
      { 'connections.perClient': '5', 'messages.rate': '30/1m' },
    ]);
    expect(points[1].config.connections.perClient).toBe(2);
    expect(points[1].config.messages.rate).toEqual({ count: 30, perMs: 60_000 });
    expect(points[2].config.messages.rate).toBeNull();
    // the rest of the base stays
    expect(points[0].config.relay.domains).toEqual(['example.test']);
  });

  it('lists every problem at once, each with its key path, a typo with its did-you-mean', () => {
    expect(problems(['conections.perClient=2,5', 'connections.perClient=abc,0,3', 'messages.rate=fast', 'nokey', 'relay.domains.x=1'])).toEqual([
      '--vary nokey: expected KEY=V1,V2,... with KEY a proxy config key path like connections.perClient, got "nokey"',
      '--vary conections.perClient: conections: unknown key (did you mean connections?)',
      '--vary connections.perClient=abc: expected number, got "abc"',
      '--vary connections.perClient=0: expected >= 1, got 0',
      '--vary messages.rate=fast: expected a rate like 60/1m or 5/s, got "fast"',
      '--vary relay.domains.x: relay.domains is ["example.test"], not a map',
    ]);
  });

  it('finds values that fail only together, and refuses a grid over --max-runs', () => {
    expect(problems(['connections.stress.release=0.95'])).toEqual([
      '--vary connections.stress.release=0.95: connections.stress.release: expected a release below connections.stress.threshold (the hysteresis)',
    ]);
    expect(problems(['connections.stress.threshold=0.5,0.9', 'connections.stress.release=0.4,0.8'])).toEqual([
      '--vary connections.stress.threshold=0.5, connections.stress.release=0.8: connections.stress.release: expected a release below connections.stress.threshold (the hysteresis)',
    ]);
    expect(problems(['connections.perClient=1,2,3', 'messages.rate=1/1m,2/1m,3/1m,4/1m'], 10)).toEqual([
      '--vary: the grid has 12 configs (3 x 4), over --max-runs 10: vary fewer keys or values, or raise --max-runs',
    ]);
    expect(problems([])).toEqual(['--vary: expected at least one --vary KEY=V1,V2,...']);
  });

  it('sets a value at its path without touching the data it came from', () => {
    const data = { a: { b: 1 } };
    expect(setAt(data, ['a', 'c', 'd'], 2)).toEqual({ data: { a: { b: 1, c: { d: 2 } } }, problem: null });
    expect(data).toEqual({ a: { b: 1 } });
  });
});

describe('best.yaml', () => {
  it('is the base file with its comments and the chosen values set, and parses as a config', () => {
    const { varies, points } = grid(['connections.perClient=2,5', 'messages.maxRecipients=20']);
    const text = configWithValues(BASE_TEXT, varies, points[0].values, ['attitude sweep: chosen']);
    expect(text).toMatch(/^# attitude sweep: chosen\n\n# the base/);
    expect(text).toContain('domains: [ example.test ] # served');
    expect(text).toContain('perClient: 2 # chosen by attitude sweep');
    expect(text).toContain('maxRecipients: 20 # chosen by attitude sweep');
    const config = parseProxyConfig(parseYaml(text), 'best.yaml', { use: 'run' });
    expect(config).toEqual(points[0].config);
  });

  it("keeps the editor's schema line pointing at the schema from where it is written", () => {
    const line = '# yaml-language-server: $schema=../../schemas/proxy.json';
    expect(relocateSchemaLine(line, { from: '/repo/scenarios/configs/default.yaml', to: '/repo/runs/sweep-x/best.yaml' })).toBe('# yaml-language-server: $schema=../../schemas/proxy.json');
    expect(relocateSchemaLine(line, { from: '/repo/scenarios/configs/default.yaml', to: '/repo/runs/sweep-x/03-perClient=2/proxy.yaml' })).toBe('# yaml-language-server: $schema=../../../schemas/proxy.json');
    expect(relocateSchemaLine('# $schema=https://example.org/proxy.json', { from: '/a/b.yaml', to: '/c/d/e.yaml' })).toBe('# $schema=https://example.org/proxy.json');
  });

  it('is the values alone on the built-in defaults', () => {
    const g = buildGrid(['connections.perClient=3'], { base: {}, baseFile: '<defaults>', maxRuns: 5 });
    const text = configWithValues(null, g.varies, g.points[0].values, ['chosen']);
    expect(text).toBe('# chosen\n\nconnections:\n  perClient: 3 # chosen by attitude sweep\n');
  });
});
