// The proxy in front of a real Postfix, as the README tells a mail admin to run it:
// Postfix trusts the proxy's XCLIENT, so it logs, checks and stamps the real client.
import { describe, expect, it } from 'vitest';
import { parseProxyConfig } from '../../proxy/config/load.ts';
import { Proxy } from '../../proxy/proxy.ts';
import { postfixFixture } from '../helpers/postfix-fixture.ts';
import { canRunPostfix, postfixOrSkip } from '../helpers/postfix-server.ts';
import { run, startSink, toolsMissing } from '../helpers/postfix-tools.ts';

const f = postfixFixture();

async function waitFor(check: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}

describe.skipIf(toolsMissing('smtp-sink', 'swaks', 'postfix') || !canRunPostfix())('proxy in front of a real Postfix', () => {
  it('passes the client address and HELO with XCLIENT: Postfix logs and stamps the real client, smtp-sink shows it', async (ctx) => {
    f.sink = await startSink();
    f.postfix = await postfixOrSkip(ctx, f.sink.address);
    f.proxy = await Proxy.start(
      parseProxyConfig({
        listen: '127.0.0.1:0',
        relay: { domains: ['example.test'], clients: [] },
        backends: { servers: [{ name: 'postfix', address: f.postfix.address, xclient: true }] },
      }),
      { processMetrics: false },
    );
    const r = await run('swaks', ['--server', `127.0.0.1:${f.proxy.address.port}`, '--local-interface', '127.0.3.3', '--helo', 'swaks.test', '--from', 'a@sender.test', '--to', 'b@example.test', '--header', 'X-Attitude-Id: pf-1']);
    expect(r.stdout).toMatch(/<- {2}250 2\.0\.0 Ok: (\d+ bytes )?queued as [0-9A-F]+/);
    await waitFor(() => f.sink!.dumps().length > 0);
    const dump = f.sink.dumps()[0];
    // Postfix's own Received header names the client the proxy passed on, not the proxy
    expect(dump).toMatch(/Received: from swaks\.test \(unknown \[127\.0\.3\.3\]\)\r?\n\tby postfix\.attitude\.test \(Postfix\)/);
    expect(dump).toMatch(/Received: from swaks\.test \(\[127\.0\.3\.3\]\)\r?\n\tby mx\.attitude\.test \(attitude\)/);
    expect(dump).toContain('X-Attitude-Id: pf-1');
    expect(f.postfix.log()).toMatch(/client=unknown\[127\.0\.3\.3\]/);
  });
});
