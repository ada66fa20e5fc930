// Interop with real peers: smtp-sink as the backend, swaks and smtp-source as clients.
import { afterEach, describe, expect, it } from 'vitest';
import { parseProxyConfig } from '../../proxy/config/load.ts';
import { Proxy } from '../../proxy/proxy.ts';
import { backends, closeAll } from '../helpers/proxy.ts';
import { drained, until } from '../helpers/defenses.ts';
import { selfSigned } from '../helpers/tls.ts';
import { freePort, run, startSink, toolsMissing, type Sink } from '../helpers/postfix-tools.ts';
import type { MockBackend } from '../../simulator/mock-backend.ts';

let proxy: Proxy | undefined;
let sink: Sink | undefined;
let mocks: MockBackend[] = [];
afterEach(async () => {
  await closeAll(proxy, mocks);
  await sink?.stop();
  proxy = undefined;
  sink = undefined;
  mocks = [];
});

async function proxyTo(servers: Array<{ name: string; address: string; xclient?: boolean }>): Promise<Proxy> {
  return Proxy.start(
    parseProxyConfig({
      listen: '127.0.0.1:0',
      relay: { domains: ['example.test'] },
      connections: { perClient: 100, rate: 'off' },
      messages: { rate: 'off', senderRate: 'off', recipientRate: 'off' },
      throttle: { perClient: 'off', global: 'off' },
      backends: { servers },
    }),
    { processMetrics: false },
  );
}

describe.skipIf(toolsMissing('smtp-sink', 'smtp-source', 'swaks'))('interop with Postfix tools and swaks', () => {
  it('swaks -> proxy -> smtp-sink with XCLIENT: the message arrives whole with the trace of the real client', async () => {
    sink = await startSink();
    proxy = await proxyTo([{ name: 'sink', address: sink.address, xclient: true }]);
    const r = await run('swaks', ['--server', `127.0.0.1:${proxy.address.port}`, '--local-interface', '127.0.3.3', '--helo', 'swaks.test', '--from', 'a@sender.test', '--to', 'b@example.test', '--header', 'X-Attitude-Id: swaks-1', '--body', 'hello from swaks\n.dot line\n']);
    expect(r.stdout + r.stderr).toMatch(/<- {2}250 2\.0\.0 Ok/);
    expect(r.code).toBe(0);
    const dumps = sink.dumps();
    expect(dumps).toHaveLength(1);
    expect(dumps[0]).toContain('X-Mail-Args: <a@sender.test>');
    expect(dumps[0]).toContain('X-Rcpt-Args: <b@example.test>');
    expect(dumps[0]).toMatch(/Received: from swaks\.test \(\[127\.0\.3\.3\]\)\r?\n\tby mx\.attitude\.test \(attitude\)/);
    expect(dumps[0]).toContain('X-Attitude-Id: swaks-1');
    expect(dumps[0]).toContain('\n.dot line');
  });

  it('swaks with STARTTLS, PIPELINING and AUTH -> proxy -> smtp-sink: relayed for the user, and every slot given back', async () => {
    sink = await startSink();
    proxy = await Proxy.start(
      parseProxyConfig({
        listen: '127.0.0.1:0',
        tls: selfSigned(),
        relay: { domains: ['example.test'], auth: { users: { alice: 's3cret' } } },
        backends: { servers: [{ name: 'sink', address: sink.address }] },
      }),
      { processMetrics: false },
    );
    const args = ['--server', `127.0.0.1:${proxy.address.port}`, '-4', '--tls', '--pipeline', '--auth', 'PLAIN', '--auth-user', 'alice', '--auth-password', 's3cret'];
    const r = await run('swaks', [...args, '--from', 'alice@example.test', '--to', 'friend@elsewhere.test', '--header', 'X-Attitude-Id: swaks-tls']);
    expect(r.stdout).toMatch(/<~ {2}235 2\.7\.0/);
    expect(r.stdout).toMatch(/<~ {2}250 2\.0\.0 Ok/);
    expect(r.code).toBe(0);
    expect(sink.dumps()).toHaveLength(1);
    expect(sink.dumps()[0]).toContain('X-Rcpt-Args: <friend@elsewhere.test>');
    expect(await until(() => drained(proxy!))).toBe(true);
  });

  it('smtp-source -> proxy -> mock backends: 200 messages over 10 sessions, all delivered and balanced', async () => {
    mocks = await backends(2, { keepRaw: false });
    proxy = await proxyTo(mocks.map((m) => ({ name: m.name, address: m.address })));
    const r = await run('smtp-source', ['-s', '10', '-m', '200', '-l', '1024', '-f', 'a@sender.test', '-t', 'b@example.test', `127.0.0.1:${proxy.address.port}`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(mocks[0].received.length + mocks[1].received.length).toBe(200);
    expect(Math.abs(mocks[0].received.length - mocks[1].received.length)).toBeLessThanOrEqual(20);
  });

  it('a backend that is gone: swaks gets 451 4.3.2 at once, never a hang', async () => {
    proxy = await proxyTo([{ name: 'gone', address: `127.0.0.1:${await freePort()}` }]);
    const r = await run('swaks', ['--server', `127.0.0.1:${proxy.address.port}`, '--from', 'a@sender.test', '--to', 'b@example.test', '--timeout', '10']);
    expect(r.stdout + r.stderr).toMatch(/<\*\* +451 4\.3\.2 /);
    expect(r.code).not.toBe(0);
  });
});
