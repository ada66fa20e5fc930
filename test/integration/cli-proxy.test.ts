// `attitude proxy` as a service: startup, admin endpoint, SIGHUP reload, SIGTERM drain.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RawClient } from '../helpers/raw-smtp.ts';
import { backends, message } from '../helpers/proxy.ts';
import { cliFixture, runCli, type Running } from '../helpers/cli.ts';
import type { MockBackend } from '../../simulator/mock-backend.ts';

const f = cliFixture('cli');

function configFile(servers: MockBackend[], extra = ''): string {
  const file = path.join(mkdtempSync(path.join(f.tmp, 'config-')), 'proxy.yaml');
  writeConfig(file, servers, extra);
  return file;
}

function writeConfig(file: string, servers: MockBackend[], extra = ''): void {
  writeFileSync(
    file,
    `listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nshutdownTimeout: 10s\nrelay: { domains: [example.test] }\n${extra}backends:\n  healthCheck: { interval: 1s, timeout: 500ms }\n  servers:\n` +
      servers.map((m) => `    - { name: ${m.name}, address: ${m.address} }\n`).join(''),
  );
}

async function started(r: Running): Promise<{ port: number; admin: string }> {
  const m = await r.waitFor(/"listen":"127\.0\.0\.1:(\d+)","admin":"(http:[^"]+)"/);
  return { port: Number(m[1]), admin: m[2] };
}

describe.each([1, 2])('attitude proxy --workers %i', (workers) => {
  it('exits 104 with every problem listed for a bad config', async () => {
    const file = path.join(f.tmp, `bad-${workers}.yaml`);
    writeFileSync(file, 'listen: nowhere\nbackends:\n  servers:\n    - { name: mx1 }\n');
    f.running = runCli(['proxy', '--config', file, '--workers', String(workers)]);
    expect(await f.running.exited).toBe(104);
    expect(f.running.stderr()).toContain('listen: expected HOST:PORT');
    expect(f.running.stderr()).toContain('backends.servers[0].address: expected HOST:PORT');
  });

  it('serves mail, /metrics, /healthz and /state; reloads on SIGHUP; keeps the old config when the new one is bad', async () => {
    f.mocks = await backends(2);
    const file = configFile([f.mocks[0]]);
    f.running = runCli(['proxy', '--config', file, '--workers', String(workers)]);
    const { port, admin } = await started(f.running);
    const c = await RawClient.connect(port);
    await c.read();
    expect((await c.send('a@sender.test', ['b@example.test'], message('cli1')))?.code).toBe(250);
    const metrics = await (await fetch(`${admin}metrics`)).text();
    expect(metrics).toMatch(/attitude_transactions_total\{outcome="delivered",backend="mx1"\} 1/);
    expect(metrics).toMatch(/attitude_backend_up\{backend="mx1"\} 1/);
    expect((await fetch(`${admin}healthz`)).status).toBe(200);
    let state = await (await fetch(`${admin}state`)).json();
    expect(state.backends.map((b: { name: string }) => b.name)).toEqual(['mx1']);
    // the cap as configured (the default), not one worker's share of it
    expect(state.connections.max).toBe(1000);

    writeConfig(file, f.mocks);
    f.running.child.kill('SIGHUP');
    await f.running.waitFor(/config reloaded/);
    state = await (await fetch(`${admin}state`)).json();
    expect(state.backends.map((b: { name: string }) => b.name)).toEqual(['mx1', 'mx2']);
    // the connection opened before the reload still works
    expect((await c.send('a@sender.test', ['b@example.test'], message('cli2')))?.code).toBe(250);

    writeFileSync(file, 'backends: { strategy: nope }\n');
    f.running.child.kill('SIGHUP');
    await f.running.waitFor(/config reload refused/);
    state = await (await fetch(`${admin}state`)).json();
    expect(state.backends).toHaveLength(2);
    expect(f.running.stdout()).toContain('backends.strategy');
    c.close();
  });

  it('drains on SIGTERM: the transaction in flight gets its 250, then the process exits 0', async () => {
    f.mocks = await backends(1, { latency: 800 });
    f.running = runCli(['proxy', '--config', configFile(f.mocks), '--workers', String(workers)]);
    const { port } = await started(f.running);
    const c = await RawClient.connect(port);
    await c.read();
    await c.cmd('EHLO me.test');
    await c.cmd('MAIL FROM:<a@sender.test>');
    await c.cmd('RCPT TO:<b@example.test>');
    await c.cmd('DATA');
    const final = c.cmd(message('drain') + '.');
    await new Promise((r) => setTimeout(r, 100));
    f.running.child.kill('SIGTERM');
    expect((await final)?.code).toBe(250);
    expect(await f.running.exited).toBe(0);
    expect(f.mocks[0].received.map((m) => m.id)).toEqual(['drain']);
  });

  it('keeps per-client limits exact across workers', async () => {
    f.mocks = await backends(1);
    f.running = runCli(['proxy', '--config', configFile(f.mocks, 'connections: { perClient: 2, rate: off }\n'), '--workers', String(workers)]);
    const { port } = await started(f.running);
    const clients = [];
    const codes = [];
    for (let i = 0; i < 4; i++) {
      const c = await RawClient.connect(port, '127.0.13.1');
      clients.push(c);
      codes.push((await c.read())?.code);
    }
    expect(codes).toEqual([220, 220, 421, 421]);
    // a freed slot is free on every worker
    clients[0].close();
    await new Promise((r) => setTimeout(r, 200));
    const again = await RawClient.connect(port, '127.0.13.1');
    expect((await again.read())?.code).toBe(220);
    for (const c of [...clients, again]) c.close();
  });
});

describe('attitude validate', () => {
  it.each([
    ['no servers', 'listen: 127.0.0.1:0\n', 'backends.servers: expected at least one backend server'],
    ['a server without an address', 'backends:\n  servers:\n    - { name: mx1 }\n', 'backends.servers[0].address: expected HOST:PORT'],
  ])('refuses what attitude proxy refuses (%s), with the same problems', async (_what, yaml, problem) => {
    const file = path.join(mkdtempSync(path.join(f.tmp, 'validate-')), 'proxy.yaml');
    writeFileSync(file, yaml);
    const validate = runCli(['validate', file]);
    expect(await validate.exited).toBe(104);
    const proxyRun = runCli(['proxy', '--config', file, '--workers', '1']);
    expect(await proxyRun.exited).toBe(104);
    expect(validate.stderr()).toContain(problem);
    expect(proxyRun.stderr()).toContain(problem);
    // a scenario's proxy config binds its servers to mock backends by name
    const forRun = runCli(['validate', '--for', 'run', file]);
    expect(await forRun.exited).toBe(0);
    expect(forRun.stdout()).toContain('valid proxy config for attitude run');
  });
});
