// The mock backend as the ledger's ground truth: sessions that carry mail are told
// apart from a target's health checks, and a message caught by an outage between
// the final dot and the 250 is kept or not as the backend decides for that message.
import { afterEach, describe, expect, it } from 'vitest';
import { MockBackend } from '../../simulator/mock-backend.ts';
import { message } from '../helpers/proxy.ts';
import { RawClient } from '../helpers/raw-smtp.ts';
import { until } from '../helpers/defenses.ts';

let mock: MockBackend | undefined;
afterEach(async () => {
  await mock?.stop();
  mock = undefined;
});

describe('mock backend sessions', () => {
  it('counts sessions with a transaction toward the peak, and health checks apart', async () => {
    const m = (mock = await new MockBackend({ name: 'mx1' }).start());
    const closed: boolean[] = [];
    m.events.on('closed', (e) => closed.push(e.mail));
    // a health check: banner, EHLO, QUIT
    const check = await RawClient.connect(m.port);
    await check.read();
    await check.cmd('EHLO haproxy.test');
    const sender = await RawClient.connect(m.port);
    await sender.read();
    expect((await sender.send('a@sender.test', ['b@example.test'], message('m1')))?.code).toBe(250);
    await check.cmd('QUIT');
    await sender.cmd('QUIT');
    expect(await until(() => closed.length === 2)).toBe(true);
    expect(closed.sort()).toEqual([false, true]);
    expect({ peakSessions: m.peakSessions, peakMailSessions: m.peakMailSessions, mailSessions: m.mailSessions, sessions: m.sessions }).toEqual({ peakSessions: 2, peakMailSessions: 1, mailSessions: 0, sessions: 0 });
  });
});

describe('an outage between the final dot and the 250 (RFC 1047)', () => {
  /** Sends message `id`; the outage strikes while the backend works on its final dot (its third delay). */
  async function cutAfterDot(m: MockBackend, id: string, latencies: { calls: number }) {
    latencies.calls = 0;
    const c = await RawClient.connect(m.port);
    await c.read();
    await c.cmd('EHLO client.test');
    const replies = await c.transaction('a@sender.test', ['b@example.test'], message(id));
    c.close();
    // MAIL, RCPT and DATA answered; the final dot never
    return replies.map((r) => r.code);
  }

  it('keeps the message, unanswered, when the backend decides it had stored it, and nothing otherwise', async () => {
    const latencies = { calls: 0 };
    const decided: string[] = [];
    const m: MockBackend = (mock = new MockBackend({
      name: 'mx1',
      // MAIL, RCPT, then the final dot: the outage comes while the dot is being answered
      latency: () => {
        if (++latencies.calls === 3) setImmediate(() => void m.down());
        return 50;
      },
      keptOnDrop: (id) => {
        decided.push(id);
        return id === 'kept';
      },
      keepRaw: false,
    }));
    await m.start();
    expect(await cutAfterDot(m, 'kept', latencies)).toEqual([250, 250, 354]);
    expect(await until(() => decided.length === 1)).toBe(true);
    expect(m.received.map((r) => [r.id, r.unanswered])).toEqual([['kept', true]]);
    await m.up();
    expect(await cutAfterDot(m, 'dropped', latencies)).toEqual([250, 250, 354]);
    expect(await until(() => decided.length === 2)).toBe(true);
    expect(m.received.map((r) => r.id)).toEqual(['kept']);
  });
});
