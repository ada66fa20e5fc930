// The sending engine behind `legit`, `spammer` and `worm`: a queue per client
// address, a small pool of reused connections per client, and a policy for a
// temporary failure: retry with backoff (a real MTA's queue) or give up (a bot).
// Every message ends with exactly one `message.outcome`.
import { sleep, type TimerHandle } from '../clock.ts';
import { withoutReply, type MessageOutcome, type ReplyInfo, type SmtpStage } from '../events.ts';
import { buildMessage, type Flavour } from '../message.ts';
import type { MailerPlan, PlannedMessage } from '../plan.ts';
import { noReply } from '../smtp/reply.ts';
import type { RetrySpec } from '../scenario/schema.ts';
import { Tasks, type ActorContext } from './context.ts';
import { Session } from './session.ts';

export interface MailerPolicy {
  flavour: Flavour;
  /** null: give up on the first temporary failure */
  retry: RetrySpec | null;
}

interface Job {
  msg: PlannedMessage;
  attempts: number;
  last: ReplyInfo | null;
  lastStage: SmtpStage;
  retryTimer: TimerHandle | null;
  done: boolean;
}

interface ClientState {
  queue: Job[];
  idle: Array<{ session: Session; sent: number; timer: TimerHandle | null }>;
  open: number;
}

const RUN_OVER = noReply('run-over', 'in flight when the run ended');

type Verdict = { outcome: MessageOutcome | 'temporary'; info: ReplyInfo; stage: SmtpStage; keep: boolean };

export async function runMailer(ctx: ActorContext<MailerPlan>, policy: MailerPolicy): Promise<void> {
  const { plan, bus, clock } = ctx;
  const spec = plan.spec;
  const actor = plan.name;
  const clients: ClientState[] = plan.clients.map(() => ({ queue: [], idle: [], open: 0 }));
  const jobs = new Set<Job>();
  const tasks = new Tasks();
  const helo = (client: number) => `mta${client + 1}.${spec.senderDomain ?? `${actor}.sender.test`}`;
  let wake: (() => void) | null = null;
  const changed = () => {
    const w = wake;
    wake = null;
    w?.();
  };

  const finish = (job: Job, outcome: MessageOutcome, info: ReplyInfo) => {
    if (job.done) return;
    job.done = true;
    if (job.retryTimer) clock.clearTimeout(job.retryTimer);
    jobs.delete(job);
    bus.emit('message.outcome', { actor, id: job.msg.id, outcome, attempts: job.attempts, size: job.msg.size, ...info });
    changed();
  };

  const release = (client: number, session: Session, sent: number) => {
    const state = clients[client];
    // once arrivals are over, a connection is kept only while the client's queue
    // still has mail for it (a backlog drains over the connections it has, as an MTA's would)
    if (session.closed || sent >= spec.reuse || (ctx.ending.aborted && !state.queue.length)) {
      state.open--;
      void session.quit();
      return;
    }
    const entry = { session, sent, timer: null as TimerHandle | null };
    entry.timer = clock.setTimeout(() => {
      const i = state.idle.indexOf(entry);
      if (i < 0) return;
      state.idle.splice(i, 1);
      state.open--;
      void session.quit();
      pump(client);
    }, spec.keepAlive);
    state.idle.push(entry);
  };

  const pump = (client: number) => {
    const state = clients[client];
    while (state.queue.length && !ctx.abort.aborted) {
      let entry = state.idle.pop();
      while (entry && entry.session.closed) {
        if (entry.timer) clock.clearTimeout(entry.timer);
        state.open--;
        entry = state.idle.pop();
      }
      if (!entry && state.open >= spec.connections) return;
      if (entry?.timer) clock.clearTimeout(entry.timer);
      if (!entry) state.open++;
      const job = state.queue.shift()!;
      tasks.add(attempt(client, job, entry ? { session: entry.session, sent: entry.sent } : null));
    }
  };

  const attempt = async (client: number, job: Job, reuse: { session: Session; sent: number } | null) => {
    job.attempts++;
    bus.emit('message.attempt', { actor, id: job.msg.id, client: plan.clients[client], attempt: job.attempts });
    let session = reuse?.session ?? null;
    let sent = reuse?.sent ?? 0;
    let verdict: Verdict;
    if (!session) {
      const opened = await Session.open(ctx, client, { timeoutMs: spec.timeout });
      if (opened.ok && (await opened.session.ehlo(helo(client), spec.timeout))) {
        session = opened.session;
      } else {
        opened.session?.destroy();
        const info = opened.ok ? noReply('ehlo-refused') : opened.info;
        verdict = { outcome: info.code !== null && info.code >= 500 ? 'rejected' : 'temporary', info, stage: 'connect', keep: false };
        clients[client].open--;
        return settle(client, job, verdict);
      }
    }
    verdict = await transaction(session, job.msg);
    sent++;
    if (verdict.keep && !session.closed) release(client, session, sent);
    else {
      clients[client].open--;
      if (!session.closed) {
        if (verdict.info.code === null) session.destroy();
        else void session.quit();
      }
    }
    settle(client, job, verdict);
  };

  const settle = (client: number, job: Job, v: Verdict) => {
    job.last = v.info;
    job.lastStage = v.stage;
    let retryInMs: number | null = null;
    if (v.outcome === 'temporary' && policy.retry && job.attempts <= policy.retry.max && !ctx.abort.aborted) {
      const r = policy.retry;
      const base = Math.min(r.maxDelay, r.after * r.backoff ** (job.attempts - 1));
      retryInMs = Math.round(base * (0.8 + 0.4 * ctx.random()));
    }
    const outcome: MessageOutcome = v.outcome === 'temporary' ? (v.info.code === null ? withoutReply(ctx.abort.aborted) : 'deferred') : v.outcome;
    // the run's end closed the connection, not the target
    const info = outcome === 'in-flight' ? RUN_OVER : v.info;
    bus.emit('message.try', { actor, id: job.msg.id, attempt: job.attempts, outcome, stage: v.stage, retryInMs, ...info });
    if (retryInMs === null) finish(job, outcome, info);
    else {
      job.retryTimer = clock.setTimeout(() => {
        job.retryTimer = null;
        if (job.done || ctx.abort.aborted) return;
        clients[client].queue.push(job);
        pump(client);
      }, retryInMs);
    }
    pump(client);
  };

  const transaction = async (session: Session, msg: PlannedMessage): Promise<Verdict> => {
    const t = spec.timeout;
    const fail = (stage: SmtpStage, info: ReplyInfo, keep: boolean): Verdict => ({
      outcome: info.code === null || (info.code >= 400 && info.code < 500) ? 'temporary' : 'rejected',
      info,
      stage,
      keep: keep && info.code !== null && info.code !== 421,
    });
    const reset = async () => (await session.cmd('rset', 'RSET', t)).reply?.code === 250;
    const mailLine = `MAIL FROM:<${msg.from}> SIZE=${msg.size}`;
    // PIPELINING (RFC 2920), as Postfix's smtp client does it: MAIL, every RCPT and DATA in
    // one write, then the replies in order. Only the replies to commands that a client
    // waiting for each reply would have sent are recorded; the rest (503 after a refused
    // MAIL, 554 to a DATA with no recipient) are read and dropped.
    const pipelined = spec.pipelining && session.offers('PIPELINING');
    if (pipelined) await session.conn.write([mailLine, ...msg.to.map((r) => `RCPT TO:<${r}>`), 'DATA'].map((l) => l + '\r\n').join(''));
    const step = (stage: SmtpStage, line: string) => (pipelined ? session.reply(stage, t, msg.id) : session.cmd(stage, line, t, msg.id));
    // the replies a pipelined group still owes after it stopped early; false when one never came
    const drop = async (owed: number) => {
      let last = null;
      for (let i = 0; i < owed; i++) if (!(last = await session.conn.read(t))) return false;
      // a server that took DATA anyway gets an empty message ended at once
      if (last?.code === 354) return (await session.conn.command('.', t)) !== null;
      return true;
    };
    const stopped = async (stage: SmtpStage, info: ReplyInfo, answered: boolean, owed: number) =>
      fail(stage, info, answered && (!pipelined || (await drop(owed))) && (await reset()));
    const mail = await step('mail', mailLine);
    if (mail.reply?.code !== 250) return stopped('mail', mail.info, mail.reply !== null, msg.to.length + 1);
    let accepted = 0;
    let permanent: ReplyInfo | null = null;
    for (let i = 0; i < msg.to.length; i++) {
      const r = await step('rcpt', `RCPT TO:<${msg.to[i]}>`);
      if (r.reply?.code === 250 || r.reply?.code === 251) accepted++;
      else if (r.reply && r.reply.code >= 500) permanent = r.info;
      else {
        // a temporary refusal (or none): the whole message waits for the next attempt
        return stopped('rcpt', r.info, r.reply !== null, msg.to.length - i);
      }
    }
    if (!accepted) return stopped('rcpt', permanent ?? noReply('no-recipient'), true, 1);
    const data = await step('data', 'DATA');
    if (data.reply?.code !== 354) return fail('data', data.info, data.reply !== null && (await reset()));
    // the last chunk and the final dot go in one write
    let pending: string | null = null;
    for (const chunk of buildMessage(msg, policy.flavour).chunks()) {
      if (session.closed || ctx.abort.aborted) break;
      if (pending !== null) await session.conn.write(pending);
      pending = chunk;
    }
    if (!session.closed && !ctx.abort.aborted) await session.conn.write((pending ?? '') + '.\r\n');
    const dot = await session.reply('dot', t * 3, msg.id);
    if (dot.reply?.code === 250) return { outcome: 'accepted', info: dot.info, stage: 'dot', keep: true };
    return fail('dot', dot.info, true);
  };

  // arrivals, on the plan's schedule, until the duration is over
  const arrivals = (async () => {
    for (const msg of plan.messages) {
      if (!(await sleep(clock, msg.t - ctx.elapsed(), ctx.ending))) break;
      const job: Job = { msg, attempts: 0, last: null, lastStage: 'connect', retryTimer: null, done: false };
      jobs.add(job);
      bus.emit('message.queued', { actor, id: msg.id, client: plan.clients[msg.client], size: msg.size, recipients: msg.to.length });
      clients[msg.client].queue.push(job);
      pump(msg.client);
    }
  })();
  await arrivals;

  // drain: until every message has its outcome, or the engine aborts
  const onAbort = () => changed();
  ctx.abort.addEventListener('abort', onAbort, { once: true });
  while (jobs.size && !ctx.abort.aborted) await new Promise<void>((r) => (wake = r));
  ctx.abort.removeEventListener('abort', onAbort);
  for (const state of clients) {
    for (const entry of state.idle.splice(0)) {
      if (entry.timer) clock.clearTimeout(entry.timer);
      void entry.session.quit();
    }
  }
  if (ctx.abort.aborted) for (const c of ctx.live) c.destroy();
  await tasks.all();
  // what is left when the run is over: waiting for a retry after a 4xx (deferred) or after no
  // reply (abandoned), or never answered at all: in flight at the end
  for (const job of [...jobs]) {
    if (!job.last) finish(job, 'in-flight', RUN_OVER);
    else finish(job, job.last.code !== null && job.last.code < 500 ? 'deferred' : 'abandoned', job.last);
  }
}
