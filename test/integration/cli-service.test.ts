// `attitude proxy` as a service, started the ways README and contrib/attitude.service
// say: the process started is the proxy itself (its pid is the pid file's), so SIGHUP
// reloads and SIGTERM drains, with no npm in between to die of them.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RawClient } from '../helpers/raw-smtp.ts';
import { backends, message } from '../helpers/proxy.ts';
import { cliFixture, runCommand } from '../helpers/cli.ts';
import type { MockBackend } from '../../simulator/mock-backend.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { name: string; bin: { attitude: string } };
const UNIT = readFileSync(path.join(REPO, 'contrib/attitude.service'), 'utf8');

const f = cliFixture('service');

/** A folder with the package installed as npm lays it out: node_modules/NAME, and node_modules/.bin/attitude linking to the bin file. */
function site(): string {
  const dir = mkdtempSync(path.join(f.tmp, 'site-'));
  mkdirSync(path.join(dir, 'node_modules/.bin'), { recursive: true });
  symlinkSync(REPO, path.join(dir, 'node_modules', pkg.name));
  symlinkSync(path.join('..', pkg.name, pkg.bin.attitude), path.join(dir, 'node_modules/.bin/attitude'));
  return dir;
}

function writeConfig(file: string, servers: MockBackend[], extra = ''): void {
  writeFileSync(
    file,
    `listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nshutdownTimeout: 10s\nrelay: { domains: [example.test] }\n${extra}backends:\n  servers:\n` +
      servers.map((m) => `    - { name: ${m.name}, address: ${m.address} }\n`).join(''),
  );
}

/** The command of the unit's ExecStart, for this checkout instead of /opt/attitude. */
function execStart(): { node: string; bin: string; args: string[] } {
  const [node, bin, ...args] = /^ExecStart=(.+)$/m.exec(UNIT)![1].split(/\s+/);
  return { node, bin, args };
}

describe('contrib/attitude.service', () => {
  it('runs node on the bin file (never npx), reloads with SIGHUP to $MAINPID, may bind port 25, holds 65536 descriptors', () => {
    const { node, bin, args } = execStart();
    expect(path.isAbsolute(node) && path.basename(node)).toBe('node');
    expect(bin).toBe(`/opt/attitude/node_modules/${pkg.name}/${pkg.bin.attitude.replace(/^\.\//, '')}`);
    expect(args).toEqual(['proxy', '--config', '/etc/attitude/proxy.yaml']);
    for (const line of ['Type=simple', 'ExecReload=/bin/kill -HUP $MAINPID', 'LimitNOFILE=65536', 'AmbientCapabilities=CAP_NET_BIND_SERVICE', 'User=attitude', 'Restart=on-failure', 'RestartPreventExitStatus=104']) {
      expect(UNIT.split('\n')).toContain(line);
    }
  });

  it.skipIf(spawnSync('systemd-analyze', ['--version']).status !== 0)('passes systemd-analyze verify', () => {
    const r = spawnSync('systemd-analyze', ['verify', path.join(REPO, 'contrib/attitude.service')], { encoding: 'utf8' });
    // the unit's paths (/opt/attitude, the user) exist only where it is installed; the syntax and keys must be right anywhere
    const complaints = (r.stderr + r.stdout).split('\n').filter((l) => l.trim() && !/is not executable|No such file|does not exist|Failed to resolve user|user/i.test(l));
    expect(complaints).toEqual([]);
  });
});

describe.each([
  ['README: ./node_modules/.bin/attitude proxy --config proxy.yaml', 'bin' as const, [] as string[]],
  ['the unit: node .../bin/attitude.js proxy --config proxy.yaml (--workers 1)', 'node' as const, ['--workers', '1']],
])('%s', (_name, how, extra) => {
  it('is the process to signal: its pid file names it; SIGHUP reloads (a typo is refused, with a suggestion); SIGTERM drains the transaction in flight and exits 0', async () => {
    f.mocks = await backends(2);
    const dir = site();
    const config = path.join(dir, 'proxy.yaml');
    const pidFile = path.join(dir, 'attitude.pid');
    writeConfig(config, [f.mocks[0]]);
    const args = ['proxy', '--config', 'proxy.yaml', '--pid-file', 'attitude.pid', ...extra];
    f.running =
      how === 'bin'
        ? runCommand('./node_modules/.bin/attitude', args, { cwd: dir })
        : runCommand(process.execPath, [path.join(dir, 'node_modules', pkg.name, pkg.bin.attitude), ...args], { cwd: dir });
    const m = await f.running.waitFor(/"listen":"127\.0\.0\.1:(\d+)","admin":"(http:[^"]+)"/);
    const [port, admin] = [Number(m[1]), m[2]];
    // the process the command started is the proxy: no npm, no shell, no child to forward signals to
    expect(readFileSync(pidFile, 'utf8').trim()).toBe(String(f.running.child.pid));

    writeConfig(config, f.mocks);
    f.running.child.kill('SIGHUP');
    await f.running.waitFor(/config reloaded/);
    const state = await (await fetch(`${admin}state`)).json();
    expect(state.backends.map((b: { name: string }) => b.name)).toEqual(['mx1', 'mx2']);

    writeConfig(config, f.mocks, 'conections: { max: 10 }\n');
    f.running.child.kill('SIGHUP');
    await f.running.waitFor(/config reload refused/);
    expect(f.running.stdout()).toContain('conections: unknown key (did you mean connections?)');

    // a transaction in flight when SIGTERM arrives: DATA accepted, the message not sent yet
    const c = await RawClient.connect(port);
    await c.read();
    await c.cmd('EHLO me.test');
    expect((await c.cmd('MAIL FROM:<a@sender.test>'))?.code).toBe(250);
    expect((await c.cmd('RCPT TO:<b@example.test>'))?.code).toBe(250);
    expect((await c.cmd('DATA'))?.code).toBe(354);
    f.running.child.kill('SIGTERM');
    await f.running.waitFor(/SIGTERM: draining/);
    expect((await c.cmd(message('in-flight') + '.'))?.code).toBe(250);
    expect(await f.running.exited).toBe(0);
    expect(f.mocks.flatMap((b) => b.received.map((r) => r.id))).toEqual(['in-flight']);
    expect(existsSync(pidFile)).toBe(false);
    c.close();
  });
});
