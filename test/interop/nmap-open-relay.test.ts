// nmap's smtp-open-relay script, the scanner an auditor points at an MX, against the
// proxy with its defaults (only the served domain and a backend): none of its 16
// relay tests gets through. A proxy that lets everyone relay is the control: nmap must
// call that one an open relay, or this test could not fail. The error tarpit is
// loosened (it is not the subject here): with the default errorHardLimit of 10 the
// proxy ends nmap's session after its 11th refused test, before a verdict.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseProxyConfig } from '../../proxy/config/load.ts';
import { Proxy } from '../../proxy/proxy.ts';
import { backends, closeAll } from '../helpers/proxy.ts';
import { run, toolsMissing } from '../helpers/postfix-tools.ts';
import type { MockBackend } from '../../simulator/mock-backend.ts';

let proxy: Proxy | undefined;
let mocks: MockBackend[] = [];
let dir: string | undefined;
afterEach(async () => {
  await closeAll(proxy, mocks);
  if (dir) rmSync(dir, { recursive: true, force: true });
  proxy = undefined;
  mocks = [];
  dir = undefined;
});

/** nmap's verdict on the proxy's port, which a services file of its own names smtp (the script only runs on SMTP ports). */
async function scan(port: number): Promise<string> {
  dir = mkdtempSync(path.join(tmpdir(), 'attitude-nmap-'));
  writeFileSync(path.join(dir, 'nmap-services'), `smtp\t${port}/tcp\t0.5\n`);
  const r = await run('nmap', ['-Pn', '-n', '--datadir', dir, '-p', String(port), '--script', 'smtp-open-relay', '--script-args', 'smtp-open-relay.ip=127.0.0.1', '127.0.0.1'], 60_000);
  const verdict = /smtp-open-relay: (.*)/.exec(r.stdout)?.[1];
  if (!verdict) throw new Error(`nmap printed no verdict:\n${r.stdout}\n${r.stderr}`);
  return verdict;
}

async function proxyWith(relay: Record<string, unknown>): Promise<Proxy> {
  mocks = await backends(1);
  const config = { listen: '127.0.0.1:0', relay, connections: { errorSoftLimit: 100, errorHardLimit: 100 }, backends: { servers: [{ name: 'mx1', address: mocks[0].address }] } };
  return Proxy.start(parseProxyConfig(config), { processMetrics: false });
}

describe.skipIf(toolsMissing('nmap'))("nmap's smtp-open-relay", () => {
  it('finds no open relay in the defaults (a file with only the served domain and a backend)', async () => {
    proxy = await proxyWith({ domains: ['example.test'] });
    expect(await scan(proxy.address.port)).toMatch(/doesn't seem to be an open relay, all tests failed/);
    expect(mocks[0].received).toHaveLength(0);
  });

  it('finds the open relay the control is (relay.clients: everyone)', async () => {
    proxy = await proxyWith({ domains: ['example.test'], clients: ['0.0.0.0/0'] });
    expect(await scan(proxy.address.port)).toMatch(/Server is an open relay/);
  });
});
