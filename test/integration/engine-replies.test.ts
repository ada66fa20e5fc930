// smtp-server's own refusals go through the reply table too: they name their limit
// and are counted under a reason like every other refusal.
import { afterEach, describe, expect, it } from 'vitest';
import { RawClient } from '../helpers/raw-smtp.ts';
import { backends, closeAll, proxyFor } from '../helpers/proxy.ts';
import type { MockBackend } from '../../simulator/mock-backend.ts';
import type { Proxy } from '../../proxy/proxy.ts';

let mocks: MockBackend[] = [];
let proxy: Proxy | undefined;
afterEach(async () => {
  await closeAll(proxy, mocks);
  proxy = undefined;
  mocks = [];
});

async function metrics(): Promise<string> {
  const a = proxy!.adminAddress!;
  return (await fetch(`http://${a.host}:${a.port}/metrics`)).text();
}

describe('smtp-server refusals through the reply table', () => {
  it('HTTP requests, overlong lines and idle clients get our codes and are counted', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { connections: { perClient: 100, max: 1000, rate: 'off', idleTimeout: '400ms' } });
    const http = await RawClient.connect(proxy.address.port);
    await http.read();
    expect(await http.cmd('GET / HTTP/1.1')).toEqual({ code: 421, text: '4.7.0 HTTP request on an SMTP port, closing connection' });
    expect(await http.waitClosed()).toBe(true);

    const long = await RawClient.connect(proxy.address.port);
    await long.read();
    expect(await long.cmd('EHLO ' + 'x'.repeat(600))).toEqual({ code: 421, text: '4.5.2 command line too long, closing connection' });

    const idle = await RawClient.connect(proxy.address.port);
    await idle.read();
    expect(await idle.read(3000)).toEqual({ code: 421, text: '4.4.2 idle timeout, closing connection' });

    const m = await metrics();
    for (const reason of ['http-request', 'line-too-long', 'idle-timeout']) expect(m).toMatch(new RegExp(`attitude_refusals_total\\{reason="${reason}",stage="session",code="421"\\} 1`));
    for (const c of [http, long, idle]) c.close();
  });
});
