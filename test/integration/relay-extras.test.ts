// Relay details: STARTTLS when configured, the per-backend connection cap, the log line.
import { afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import nodemailer from 'nodemailer';
import pino from 'pino';
import { backends, closeAll, message, proxyFor } from '../helpers/proxy.ts';
import { RawClient } from '../helpers/raw-smtp.ts';
import { until } from '../helpers/defenses.ts';
import { selfSigned } from '../helpers/tls.ts';
import { parseProxyConfig } from '../../proxy/config/load.ts';
import { Proxy } from '../../proxy/proxy.ts';
import type { MockBackend } from '../../simulator/mock-backend.ts';

let mocks: MockBackend[] = [];
let proxy: Proxy | undefined;
afterEach(async () => {
  await closeAll(proxy, mocks);
  proxy = undefined;
  mocks = [];
});

describe('relay extras', () => {
  it('offers STARTTLS with a configured certificate and AUTH only over TLS', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { tls: selfSigned(), relay: { domains: ['example.test'], clients: [], auth: { users: { alice: 'secret' } } } });
    const c = await RawClient.connect(proxy.address.port);
    await c.read();
    const ehlo = await c.cmd('EHLO me.test');
    expect(ehlo?.text).toContain('STARTTLS');
    c.close();
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: proxy.address.port,
      requireTLS: true,
      tls: { rejectUnauthorized: false },
      auth: { user: 'alice', pass: 'secret' },
    });
    const info = await transport.sendMail({ from: 'alice@example.test', to: 'someone@elsewhere.test', subject: 'tls', text: 'over tls', headers: { 'X-Attitude-Id': 'tls1' } });
    transport.close();
    expect(info.response).toMatch(/^250 /);
    expect(mocks[0].received.map((m) => m.id)).toEqual(['tls1']);
  });

  it('never opens more than maxConnections to a backend; waiting transactions get the freed connection', async () => {
    mocks = await backends(1, { latency: 50 });
    proxy = await proxyFor(mocks, { backends: { healthCheck: { enabled: false } } }, [{ maxConnections: 2 }]);
    const codes = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const c = await RawClient.connect(proxy!.address.port, `127.0.4.${i + 1}`);
        await c.read();
        const r = await c.send('a@sender.test', ['b@example.test'], message(`cap${i}`));
        c.close();
        return r?.code;
      }),
    );
    expect(codes).toEqual(Array(6).fill(250));
    expect(mocks[0].peakSessions).toBeLessThanOrEqual(2);
    expect(mocks[0].received).toHaveLength(6);
  });

  /** A proxy logging into `lines`, in front of one mock backend. */
  async function loggingProxy(log: Record<string, unknown> = {}): Promise<Record<string, unknown>[]> {
    mocks = await backends(1);
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _e, cb) {
        for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
        cb();
      },
    });
    const config = parseProxyConfig({ listen: '127.0.0.1:0', relay: { domains: ['example.test'] }, log, backends: { servers: [{ name: 'mx1', address: mocks[0].address }] } });
    proxy = await Proxy.start(config, { processMetrics: false, logger: pino({ level: 'info' }, sink) });
    return lines;
  }

  const transactions = async (lines: Record<string, unknown>[], n: number) => {
    expect(await until(() => lines.filter((l) => l.msg === 'transaction').length >= n)).toBe(true);
    return lines.filter((l) => l.msg === 'transaction');
  };

  it('logs one structured line per transaction, with the recipients, the backend queue id and the Message-ID', async () => {
    const lines = await loggingProxy();
    const c = await RawClient.connect(proxy!.address.port, '127.0.8.8');
    await c.read();
    await c.send('a@sender.test', ['b@example.test', 'c@example.test'], message('log1'));
    c.close();
    const tx = await transactions(lines, 1);
    expect(tx).toHaveLength(1);
    expect(tx[0]).toMatchObject({ client: '127.0.8.8', sender: 'a@sender.test', recipients: 2, backend: 'mx1', outcome: 'delivered' });
    expect(tx[0].size).toBeGreaterThan(100);
    expect(tx[0].reply).toMatch(/^250 /);
    expect(typeof tx[0].ms).toBe('number');
    // what a mail admin greps for: who it was for, where the backend has it, which message it was
    expect(tx[0]).toMatchObject({ to: ['b@example.test', 'c@example.test'], queueId: 'mx1-1', messageId: '<log1@sender.test>' });
    expect(tx[0].reply).toContain(`queued as ${tx[0].queueId}`);
  });

  it('names the Message-ID of a refused message, with no queue id', async () => {
    const lines = await loggingProxy();
    const c = await RawClient.connect(proxy!.address.port, '127.0.8.9');
    await c.read();
    const gtube = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';
    expect((await c.send('a@sender.test', ['b@example.test'], message('log2', '').replace('Hello log2', gtube)))?.code).toBe(554);
    c.close();
    const [tx] = await transactions(lines, 1);
    expect(tx).toMatchObject({ outcome: 'rejected', to: ['b@example.test'], queueId: null, messageId: '<log2@sender.test>' });
  });

  it('hashes the recipients or leaves them out, as log.recipients says', async () => {
    const hashed = await loggingProxy({ recipients: 'hash' });
    let c = await RawClient.connect(proxy!.address.port, '127.0.8.10');
    await c.read();
    await c.send('a@sender.test', ['Bob@example.test'], message('log3'));
    c.close();
    const [h] = await transactions(hashed, 1);
    const digest = createHash('sha256').update('bob@example.test').digest('hex').slice(0, 16);
    expect(h).toMatchObject({ recipients: 1, to: [`sha256:${digest}`], queueId: 'mx1-1' });
    expect(JSON.stringify(h)).not.toContain('Bob@example.test');
    await closeAll(proxy, mocks);

    const none = await loggingProxy({ recipients: 'none' });
    c = await RawClient.connect(proxy!.address.port, '127.0.8.11');
    await c.read();
    await c.send('a@sender.test', ['bob@example.test'], message('log4'));
    c.close();
    const [n] = await transactions(none, 1);
    expect(n).toMatchObject({ recipients: 1, queueId: 'mx1-1', messageId: '<log4@sender.test>' });
    expect(n).not.toHaveProperty('to');
    expect(JSON.stringify(n)).not.toContain('bob@example.test');
  });
});
