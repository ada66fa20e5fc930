// `attitude init`: a starter proxy.yaml that `attitude validate` accepts as it is.
import { afterAll, describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { runCli } from '../helpers/cli.ts';
import { schemaPathFor } from '../../bin/init-command.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'attitude-init-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const REPO = path.resolve(import.meta.dirname, '../..');

async function run(args: string[]) {
  const r = runCli(args);
  const code = await r.exited;
  return { code, stdout: r.stdout(), stderr: r.stderr() };
}

/** The schema named on the first line, read from where an editor would look for it. */
function schemaOf(file: string): unknown {
  const m = /^# yaml-language-server: \$schema=(.+)$/m.exec(readFileSync(file, 'utf8').split('\n')[0]);
  expect(m, 'a yaml-language-server line first').not.toBeNull();
  const schema = path.resolve(path.dirname(file), m![1]);
  expect(existsSync(schema), schema).toBe(true);
  return JSON.parse(readFileSync(schema, 'utf8'));
}

describe('attitude init', () => {
  it.each([
    ['XCLIENT (the default)', [], 'xclient: true', '-o smtpd_authorized_xclient_hosts=127.0.0.1'],
    ['--postfix', ['--postfix'], 'xclient: true', '-o smtpd_authorized_xclient_hosts=127.0.0.1'],
    ['--proxy-protocol', ['--proxy-protocol'], 'proxyProtocol: v1', '-o smtpd_upstream_proxy_protocol=haproxy'],
    ['--backends 2', ['--backends', '2'], 'xclient: true', '-o smtpd_authorized_xclient_hosts=PROXY_ADDRESS'],
    ['--proxy-protocol --backends 3', ['--proxy-protocol', '--backends', '3'], 'proxyProtocol: v1', '-o smtpd_upstream_proxy_protocol=haproxy'],
  ])('%s: writes a config that attitude validate accepts, with its master.cf lines', async (_what, args, backendKey, masterCf) => {
    const file = path.join(mkdtempSync(path.join(tmp, 'out-')), 'proxy.yaml');
    const init = await run(['init', '--out', file, ...args]);
    expect(init.code, init.stderr).toBe(0);
    const validate = await run(['validate', file]);
    expect(validate.code, validate.stderr).toBe(0);
    expect(validate.stdout).toContain('valid proxy config for attitude proxy');

    const text = readFileSync(file, 'utf8');
    const config = parseYaml(text);
    expect(config).toMatchObject({ listen: '0.0.0.0:25', admin: '127.0.0.1:9025', relay: { clients: [], domains: ['example.org'] } });
    const backends = args.includes('--backends') ? Number(args[args.indexOf('--backends') + 1]) : 1;
    expect(config.backends.servers).toHaveLength(backends);
    expect(config.backends.servers[0]).toMatchObject({ name: 'postfix', address: '127.0.0.1:10025' });
    expect(text.match(new RegExp(`^ +${backendKey}`, 'gm'))).toHaveLength(backends);
    // master.cf, as comments: the loopback smtpd and how it trusts the proxy
    expect(text).toMatch(/^# +127\.0\.0\.1:10025 inet n - y - - smtpd$/m);
    expect(text).toMatch(new RegExp(`^# +${masterCf}$`, 'm'));
    expect(text).toMatch(/CHANGE: the domains this MX receives mail for/);

    const validateSchema = new Ajv({ allErrors: true, allowUnionTypes: true }).compile(schemaOf(file) as object);
    expect(validateSchema(config), JSON.stringify(validateSchema.errors)).toBe(true);
  });

  it('prints to stdout without --out, with a schema line that works wherever the text goes', async () => {
    const init = await run(['init']);
    expect(init.code).toBe(0);
    const file = path.join(mkdtempSync(path.join(tmp, 'stdout-')), 'proxy.yaml');
    writeFileSync(file, init.stdout);
    schemaOf(file);
    const validate = await run(['validate', file]);
    expect(validate.code, validate.stderr).toBe(0);
  });

  it('a typo made while editing it: attitude validate and attitude proxy both name the key it was meant to be', async () => {
    const file = path.join(mkdtempSync(path.join(tmp, 'typo-')), 'proxy.yaml');
    expect((await run(['init', '--out', file])).code).toBe(0);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^connections:$/m, 'conections:').replace('maxSize:', 'maxsize:'));
    for (const args of [['validate', file], ['proxy', '--config', file, '--workers', '1']]) {
      const r = await run(args);
      expect(r.code).toBe(104);
      expect(r.stderr).toContain('conections: unknown key (did you mean connections?)');
      expect(r.stderr).toContain('messages.maxsize: unknown key (did you mean maxSize?)');
    }
  });

  it('never overwrites a file unless --force', async () => {
    const file = path.join(mkdtempSync(path.join(tmp, 'exists-')), 'proxy.yaml');
    writeFileSync(file, 'mine\n');
    const refused = await run(['init', '--out', file]);
    expect(refused.code).toBe(104);
    expect(refused.stderr).toContain('--force');
    expect(readFileSync(file, 'utf8')).toBe('mine\n');
    const forced = await run(['init', '--out', file, '--force', '--proxy-protocol']);
    expect(forced.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toContain('proxyProtocol: v1');
  });

  it('refuses a bad --backends and --postfix with --proxy-protocol', async () => {
    expect((await run(['init', '--backends', '0'])).code).toBe(104);
    const both = await run(['init', '--postfix', '--proxy-protocol']);
    expect(both.code).toBe(104);
    expect(both.stderr).toContain('cannot be used with');
  });

  it('names the schema relative to a file inside the folder that holds the package, absolute elsewhere', () => {
    const schema = path.join(REPO, 'schemas/proxy.json');
    expect(schemaPathFor(path.join(REPO, 'proxy.yaml'))).toBe('./schemas/proxy.json');
    expect(schemaPathFor(path.join(REPO, 'deploy/mx/proxy.yaml'))).toBe(schema);
    expect(schemaPathFor('/etc/attitude/proxy.yaml')).toBe(schema);
    expect(schemaPathFor(undefined)).toBe(schema);
  });
});
