// DNS reputation against a real DNSBL server: Debian's rbldnsd serving a zone of the
// lab's addresses, the way a mail admin runs a local blocklist mirror.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { proxyFixture } from '../helpers/fixture.ts';
import { backends, message, proxyFor } from '../helpers/proxy.ts';
import { addr, refusals } from '../helpers/defenses.ts';
import { freePort, toolsMissing } from '../helpers/postfix-tools.ts';
import { Dns } from '../../proxy/dns.ts';
import { proxyConfigSchema } from '../../proxy/config/schema.ts';

const f = proxyFixture();
let rbldnsd: ChildProcess | undefined;
let dir: string | undefined;
afterEach(async () => {
  if (rbldnsd && rbldnsd.exitCode === null) {
    rbldnsd.kill('SIGTERM');
    await new Promise((r) => rbldnsd!.once('exit', r));
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
  rbldnsd = dir = undefined;
});

/** rbldnsd on a free loopback port serving `zone` with these listed networks (ip4set lines). */
async function startRbldnsd(zone: string, lines: string[]): Promise<string> {
  dir = mkdtempSync(path.join(tmpdir(), 'attitude-rbldnsd-'));
  // run as root, rbldnsd drops to its own user, which must read the zone
  chmodSync(dir, 0o755);
  writeFileSync(path.join(dir, 'bl.txt'), [':127.0.0.2:listed by the attitude test blocklist', ...lines].join('\n') + '\n', { mode: 0o644 });
  const port = await freePort();
  rbldnsd = spawn('rbldnsd', ['-n', '-4', '-b', `127.0.0.1/${port}`, '-w', dir, '-t', '5', `${zone}:ip4set:bl.txt`], { stdio: 'ignore' });
  const server = `127.0.0.1:${port}`;
  // ready once it answers a listed address
  const probe = new Dns(proxyConfigSchema.parse({ dns: { servers: [server], timeout: '200ms' } }));
  const probeName = `2.0.0.127.${zone}`;
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (Array.isArray(await probe.addresses(probeName))) return server;
  }
  throw new Error('rbldnsd did not answer');
}

describe.skipIf(toolsMissing('rbldnsd'))('DNS reputation against rbldnsd', () => {
  it('refuses the addresses its zone lists, with their network, and lets the others in', async () => {
    const server = await startRbldnsd('bl.attitude.test', ['127.0.0.2', '127.123.0.0/24']);
    f.mocks = await backends(1);
    f.proxy = await proxyFor(f.mocks, { dns: { servers: [server], timeout: '1s' }, reputation: { dnsbl: [{ zone: 'bl.attitude.test', weight: 3, answers: ['127.0.0.2'] }], threshold: 3 } });
    for (const bot of [addr(123, 1), addr(123, 77)]) {
      const { banner } = await f.open(bot);
      expect(banner?.code, bot).toBe(554);
      expect(banner?.text).toMatch(/listed by bl\.attitude\.test/);
    }
    const { c, banner } = await f.open(addr(124, 1));
    expect(banner?.code).toBe(220);
    expect((await c.send('a@sender.test', ['b@example.test'], message('not-listed')))?.code).toBe(250);
    expect(await refusals(f.proxy, 'dnsbl')).toBe(2);
  });
});
