// The JSON Schemas that editors use (schemas/*.json): current with the zod schemas,
// accepting every file of the catalogue and every unit string the parsers accept.
import { describe, expect, it } from 'vitest';
import { Ajv, type ValidateFunction } from 'ajv';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { SCHEMA_DIR, schemaFiles } from '../../schemas/files.ts';
import { editorSchema } from '../../proxy/config/json-schema.ts';
import { bandwidth, duration, hostPort, optionalRate, rate, size } from '../../proxy/config/fields.ts';
import { caseless } from '../../proxy/config/editor-forms.ts';
import { countRange, durationRange, sizeRange } from '../../simulator/scenario/ranges.ts';
import { CATALOGUE_DIR } from '../../simulator/scenario/parse.ts';

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const committed = (name: string) => JSON.parse(readFileSync(path.join(SCHEMA_DIR, name), 'utf8'));
const validators: Record<string, ValidateFunction> = {
  proxy: ajv.compile(committed('proxy.json')),
  scenario: ajv.compile(committed('scenario.json')),
};

function errors(validate: ValidateFunction, data: unknown): string[] {
  return validate(data) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${e.params.additionalProperty})` : ''}`);
}

const yamlFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => path.join(dir, f));
const scenarioFiles = yamlFiles(CATALOGUE_DIR);
const configFiles = yamlFiles(path.join(CATALOGUE_DIR, 'configs'));

describe('the committed schemas', () => {
  it.each(Object.entries(schemaFiles()))('%s is what the zod schemas give today (otherwise: npm run schemas)', (name, text) => {
    expect(readFileSync(path.join(SCHEMA_DIR, name), 'utf8')).toBe(text);
  });

  it('shows defaults as a file would write them, each valid where it stands', () => {
    const proxy = committed('proxy.json');
    expect(proxy.properties.connections.properties.rate.default).toBe('60/1m');
    expect(proxy.properties.messages.properties.maxSize.default).toBe('10MB');
    expect(proxy.properties.throttle.properties.perClient.default).toBe('256KB/s');
    expect(proxy.properties.listen.default).toBe('127.0.0.1:2525');
    expect(proxy.properties.admin.default).toBeNull();
    // every default anywhere in both schemas passes the schema it is the default of
    const checked: string[] = [];
    const walk = (node: unknown, at: string) => {
      if (!node || typeof node !== 'object') return;
      if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${at}/${i}`));
      const o = node as Record<string, unknown>;
      if ('default' in o && (o.type !== undefined || o.anyOf !== undefined || o.enum !== undefined)) {
        const { default: value, ...schema } = o;
        expect(errors(ajv.compile(schema), value), `${at}: default ${JSON.stringify(value)}`).toEqual([]);
        checked.push(at);
      }
      for (const [k, v] of Object.entries(o)) if (k !== 'default') walk(v, `${at}/${k}`);
    };
    walk(proxy, 'proxy.json#');
    walk(committed('scenario.json'), 'scenario.json#');
    expect(checked.length).toBeGreaterThan(100);
  });
});

describe('the catalogue against the schemas', () => {
  it.each(scenarioFiles.map((f) => [path.basename(f), f]))('scenario %s', (_name, file) => {
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../schemas/scenario.json');
    expect(existsSync(path.resolve(path.dirname(file), '../schemas/scenario.json'))).toBe(true);
    expect(errors(validators.scenario, parseYaml(text))).toEqual([]);
  });

  it.each(configFiles.map((f) => [path.basename(f), f]))('proxy config configs/%s', (_name, file) => {
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../../schemas/proxy.json');
    expect(existsSync(path.resolve(path.dirname(file), '../../schemas/proxy.json'))).toBe(true);
    expect(errors(validators.proxy, parseYaml(text))).toEqual([]);
  });

  it('refuses what zod refuses for the usual mistakes: a typo in a key, a unit missing, a kind that does not exist', () => {
    expect(errors(validators.proxy, { conections: { max: 10 } })).toEqual(['/ must NOT have additional properties (conections)']);
    expect(errors(validators.proxy, { throttle: { perClient: '256KB' } }).length).toBeGreaterThan(0);
    expect(errors(validators.proxy, { backends: { servers: [{ name: 'mx1', adress: '127.0.0.1:25' }] } })).toContain(
      '/backends/servers/0 must NOT have additional properties (adress)',
    );
    const scenario = parseYaml(readFileSync(path.join(CATALOGUE_DIR, 'baseline.yaml'), 'utf8'));
    expect(errors(validators.scenario, { ...scenario, actors: [{ name: 'x', kind: 'botnet' }] }).length).toBeGreaterThan(0);
    expect(errors(validators.scenario, { ...scenario, actors: [{ name: 'x', kind: 'flood', rate: '5/s' }] }).length).toBeGreaterThan(0);
  });
});

describe('unit fields: the JSON Schema accepts what the parser accepts', () => {
  it('spells case-insensitive sources without flags, escapes and character classes untouched', () => {
    expect(caseless('(ms|s)\\s*/\\d[a-z]KB')).toBe('([mM][sS]|[sS])\\s*/\\d[a-z][kK][bB]');
  });

  const fields = {
    duration: duration(),
    size: size(),
    rate: rate(),
    optionalRate: optionalRate(),
    bandwidth: bandwidth(),
    hostPort: hostPort(),
    countRange: countRange(),
    sizeRange: sizeRange(),
    durationRange: durationRange(),
  };
  const samples: unknown[] = [
    ...['0', '5', ' 5 ', '1.5', '500ms', '5s', '5 S', '1m', '1H', '2d', '10MB', '64kb', '512B', '1g', '5 weeks', 'ms', '-1s', '1.s'],
    ...['60/1m', '5/s', '5 / 2 s', '0/1s', '1/0s', '5', 'fast', '256KB/s', '1 m / s', '0KB/s', '256KB', '/s'],
    ...['127.0.0.1:2525', ':25', '[::1]:25', ' host:1 ', 'host:99999', 'host', '127.0.0.1:'],
    ...['1..3', '2KB..50KB', '20ms..80ms', ' 1 .. 3 ', '3..1', '1...3', '1..2..3', '..3'],
    ...[0, 1, 2.5, -1, 25, 65536, null, true, 'off', [], {}],
    ...[{ min: 1 }, { min: 1, max: 3 }, { min: '2KB', max: '5KB', dist: 'log-uniform' }, { min: 1, dist: 'normal' }, { max: 3 }, { min: 1, other: 2 }],
  ];
  it.each(Object.entries(fields))('%s', (_name, field) => {
    const zodSchema = z.strictObject({ v: field });
    const validate = ajv.compile(editorSchema(zodSchema, { title: 't', description: 'd' }));
    let refusedByBoth = 0;
    for (const v of samples) {
      const byZod = zodSchema.safeParse({ v }).success;
      const byJson = validate({ v });
      // an editor never flags what attitude accepts; what it lets through, attitude reports with its key path
      if (byZod) expect(byJson, `${JSON.stringify(v)} is accepted by zod`).toBe(true);
      else if (!byJson) refusedByBoth++;
    }
    expect(refusedByBoth, 'the schema refuses most of what zod refuses').toBeGreaterThan(samples.length / 3);
  });
});
