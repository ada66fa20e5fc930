// An open-relay scanner: the address tricks of nmap's smtp-open-relay script
// (percent hack, bang path, source route, IP literal, quoted local parts, plain
// outside domains), one session each arrival, recording which RCPTs got 250.
import { sleep } from '../clock.ts';
import type { ProberPlan } from '../plan.ts';
import type { RelayTrick } from '../scenario/schema.ts';
import { Tasks, targetOf, type ActorContext } from './context.ts';
import { Session } from './session.ts';

export interface TrickAddresses {
  mailFrom: string;
  rcptTo: string;
}

/** The envelope of a trick: `domain` is served by the target, `outside` is not, `ip` is the target's address. */
export function trickAddresses(trick: RelayTrick, domain: string, outside: string, ip: string): TrickAddresses {
  const lit = `[${ip}]`;
  const to = `relaytest@${outside}`;
  const fromIp = `antispam@${lit}`;
  switch (trick) {
    case 'null-sender':
      return { mailFrom: '', rcptTo: to };
    case 'outside-sender':
      return { mailFrom: `antispam@${outside}`, rcptTo: to };
    case 'served-sender':
      return { mailFrom: `antispam@${domain}`, rcptTo: to };
    case 'ip-literal-sender':
      return { mailFrom: fromIp, rcptTo: to };
    case 'percent-hack-ip':
      return { mailFrom: fromIp, rcptTo: `relaytest%${outside}@${lit}` };
    case 'percent-hack':
      return { mailFrom: fromIp, rcptTo: `relaytest%${outside}@${domain}` };
    case 'quoted':
      return { mailFrom: fromIp, rcptTo: `"${to}"` };
    case 'quoted-percent':
      return { mailFrom: fromIp, rcptTo: `"relaytest%${outside}"` };
    case 'double-at-ip':
      return { mailFrom: fromIp, rcptTo: `${to}@${lit}` };
    case 'quoted-at-ip':
      return { mailFrom: fromIp, rcptTo: `"${to}"@${lit}` };
    case 'double-at':
      return { mailFrom: fromIp, rcptTo: `${to}@${domain}` };
    case 'source-route-ip':
      return { mailFrom: fromIp, rcptTo: `@${lit}:${to}` };
    case 'source-route':
      return { mailFrom: fromIp, rcptTo: `@${domain}:${to}` };
    case 'bang-path':
      return { mailFrom: fromIp, rcptTo: `${outside}!relaytest` };
    case 'bang-path-ip':
      return { mailFrom: fromIp, rcptTo: `${outside}!relaytest@${lit}` };
    case 'bang-path-served':
      return { mailFrom: fromIp, rcptTo: `${outside}!relaytest@${domain}` };
  }
}

export async function runRelayProber(ctx: ActorContext<ProberPlan>): Promise<void> {
  const { plan, bus } = ctx;
  const spec = plan.spec;
  const tasks = new Tasks();
  /** Runs the tricks it can in one session; returns those left when the target closed on it. */
  const session = async (client: number, tricks: RelayTrick[]): Promise<RelayTrick[] | null> => {
    const opened = await Session.open(ctx, client, { timeoutMs: spec.timeout });
    if (!opened.ok) return null;
    const s = opened.session;
    if (!(await s.ehlo('relay.prober.test', spec.timeout))) {
      s.destroy();
      return null;
    }
    const ip = targetOf(ctx, client).host;
    const left = [...tricks];
    while (left.length && !s.closed && !ctx.abort.aborted) {
      const trick = left[0];
      const a = trickAddresses(trick, spec.domain, spec.outside, ip);
      const base = { actor: plan.name, client: plan.clients[client], trick, mailFrom: a.mailFrom, rcptTo: a.rcptTo };
      const mail = await s.cmd('mail', `MAIL FROM:<${a.mailFrom}>`, spec.timeout);
      if (!mail.reply) break;
      if (mail.reply.code !== 250) {
        bus.emit('probe.result', { ...base, accepted: false, ...mail.info });
      } else {
        const rcpt = await s.cmd('rcpt', `RCPT TO:<${a.rcptTo}>`, spec.timeout);
        if (!rcpt.reply) break;
        bus.emit('probe.result', { ...base, accepted: rcpt.reply.code === 250 || rcpt.reply.code === 251, ...rcpt.info });
      }
      left.shift();
      if (!s.closed) await s.cmd('rset', 'RSET', spec.timeout);
    }
    if (!s.closed) await s.quit();
    return left;
  };

  // a tarpit may close the session after a few refusals: a scanner comes back for the rest (bounded)
  const probe = async (client: number, tricks: RelayTrick[]) => {
    let left: RelayTrick[] | null = tricks;
    for (let i = 0; i < tricks.length && left && left.length && !ctx.ending.aborted; i++) {
      const before: number = left.length;
      left = await session(client, left);
      if (left && left.length === before) break;
    }
  };
  for (const p of plan.probes) {
    if (!(await sleep(ctx.clock, p.t - ctx.elapsed(), ctx.ending))) break;
    tasks.add(probe(p.client, p.tricks));
  }
  await tasks.all();
}
