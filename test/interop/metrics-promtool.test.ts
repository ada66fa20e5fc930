// /metrics as Prometheus' own linter reads it (`promtool check metrics`, Debian's
// prometheus package): no warnings from one process, nor from the primary of
// `--workers 2` that merges its workers' figures.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { busyProxy, promtoolCheck } from '../helpers/metrics.ts';
import { backends, message } from '../helpers/proxy.ts';
import { cliFixture, runCli } from '../helpers/cli.ts';
import { RawClient } from '../helpers/raw-smtp.ts';
import { toolsMissing } from '../helpers/postfix-tools.ts';

const f = cliFixture('promtool');

describe.skipIf(toolsMissing('promtool'))('promtool check metrics', () => {
  it('finds nothing to say about one proxy process after traffic', async () => {
    const busy = await busyProxy();
    f.proxy = busy.proxy;
    f.mocks = busy.mocks;
    const text = await busy.metrics();
    // the families the lint must see with samples, not only their HELP lines
    expect(text).toMatch(/^attitude_transactions_total\{outcome="delivered",backend="mx1"\} 1$/m);
    expect(text).toMatch(/^attitude_refusals_total\{reason="relay-denied"/m);
    expect(text).toMatch(/^attitude_process_cpu_seconds_total /m);
    expect(text).not.toContain('process_process');
    expect(text).not.toMatch(/^# TYPE \S+_total gauge$/m);
    expect(await promtoolCheck(text)).toEqual({ code: 0, output: '' });
  });

  it('finds nothing to say about the merged page of attitude proxy --workers 2', async () => {
    f.mocks = await backends(1);
    const file = path.join(f.tmp, 'proxy.yaml');
    writeFileSync(
      file,
      `listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nshutdownTimeout: 5s\nrelay: { domains: [example.test] }\nbackends:\n  servers:\n    - { name: mx1, address: ${f.mocks[0].address} }\n`,
    );
    f.running = runCli(['proxy', '--config', file, '--workers', '2']);
    const m = await f.running.waitFor(/"listen":"127\.0\.0\.1:(\d+)","admin":"(http:[^"]+)"/);
    const c = await RawClient.connect(Number(m[1]));
    await c.read();
    expect((await c.send('a@sender.test', ['b@example.test'], message('lint2')))?.code).toBe(250);
    c.close();
    const text = await (await fetch(`${m[2]}metrics`)).text();
    expect(text).toMatch(/^attitude_transactions_total\{outcome="delivered",backend="mx1"\} 1$/m);
    // each worker says the whole cap; merged, it is said once
    expect(text).toMatch(/^attitude_connections_max 1000$/m);
    expect(await promtoolCheck(text)).toEqual({ code: 0, output: '' });
  });
});
