// The SMTP dialogue (RFC 5321), one handler per command, named after it. Each
// handler looks at the session, asks the defenses and the relay transaction, and
// answers with a reply from the table (proxy/replies.ts), the backend's own reply,
// or a plain positive one; no reply code is chosen anywhere else.
import { reply } from '../replies.ts';
import { normalizePath } from '../policy/address.ts';
import { receivedHeader } from '../relay/message.ts';
import type { SmtpReply } from '../relay/smtp-client.ts';
import { RelayTransaction, type StepResult } from '../relay/transaction.ts';
import { DotStuffer } from '../stages/dot-stuff.ts';
import { HoldBack } from '../stages/hold-back.ts';
import { isHttpRequest, parseCommand, parsePathArgs } from './commands.ts';
import type { Line } from './reader.ts';
import { authenticate, authOffered } from './sasl.ts';
import type { Session, Wire } from './session.ts';
import { queueIdOf, recipientsForLog } from './transaction-fields.ts';

type Handler = (s: Session, args: string, line: Line) => Promise<void>;

const ok = (enhanced: string, text: string): Wire => ({ code: 250, enhanced, text });

/**
 * The head of each message held back so the filters' headers (X-Spam-Score) can go
 * in front of it; the spam filter scores the first 256 KB of body as well.
 */
const HOLD_BYTES = 256 * 1024;

/** The MAIL FROM parameters the proxy understands and passes on (RFC 1870 SIZE, 6152 8BITMIME, 6531 SMTPUTF8). */
const MAIL_PARAMS = new Set(['SIZE', 'BODY', 'SMTPUTF8', 'AUTH']);

export async function dispatch(s: Session, line: Line): Promise<void> {
  const cmd = parseCommand(line.text);
  s.verb = cmd.verb;
  if (isHttpRequest(cmd)) return s.goodbye(reply('http-request'), 'session');
  const handler = HANDLERS[cmd.verb];
  if (!handler) return s.send(reply(cmd.verb === 'BDAT' || cmd.verb === 'EXPN' || cmd.verb === 'ETRN' ? 'not-implemented' : 'unknown-command'));
  return handler(s, cmd.args.trim(), line);
}

/** RFC 3848: what the Received header says the message came by. */
export function protocolOf(s: Session): string {
  return `${s.esmtp ? 'ESMTP' : 'SMTP'}${s.secure ? 'S' : ''}${s.user ? 'A' : ''}`;
}

async function greet(s: Session, args: string, esmtp: boolean): Promise<void> {
  if (!args) return s.send(reply('bad-arguments', `${esmtp ? 'EHLO' : 'HELO'} needs the client's host name`));
  // a new greeting starts over (RFC 5321 4.1.4)
  await s.endTransaction();
  s.helo = args.split(' ')[0];
  s.esmtp = esmtp;
  s.identity.helo = s.helo;
  const config = s.ctx.config();
  if (!esmtp) return s.send(ok('', config.hostname));
  const lines = [config.hostname, 'PIPELINING', '8BITMIME', 'SMTPUTF8', 'ENHANCEDSTATUSCODES', `SIZE ${config.messages.maxSize}`];
  if (config.tls && !s.secure && s.ctx.secureContext()) lines.push('STARTTLS');
  if (authOffered(s)) lines.push('AUTH PLAIN LOGIN');
  return s.send({ code: 250, enhanced: '', text: lines.join('\n') });
}

const HANDLERS: Record<string, Handler> = {
  EHLO: (s, args) => greet(s, args, true),
  HELO: (s, args) => greet(s, args, false),

  async MAIL(s, args, line) {
    if (!s.helo) return s.send(reply('need-helo'));
    if (s.tx) return s.send(reply('nested-mail'));
    const parsed = parsePathArgs(args, 'FROM');
    if (!parsed.ok) return s.send(reply(parsed.reason, parsed.detail));
    if (line.invalidUtf8) return s.send(reply('bad-address', 'not valid UTF-8'));
    const config = s.ctx.config();
    for (const [key, value] of parsed.params) {
      if (!MAIL_PARAMS.has(key)) return s.send(reply('unknown-parameter', key));
      if (key === 'BODY' && !/^(7BIT|8BITMIME)$/i.test(String(value))) return s.send(reply('bad-arguments', `BODY=${value}`));
      if (key === 'SIZE') {
        if (!/^\d{1,15}$/.test(String(value))) return s.send(reply('bad-arguments', `SIZE=${value}`));
        if (Number(value) > config.messages.maxSize) return s.refuse('mail', reply('message-too-large', `limit ${config.messages.maxSize} bytes`));
      }
    }
    const smtputf8 = parsed.params.has('SMTPUTF8');
    const sender = normalizePath(parsed.path, smtputf8);
    if (!sender.ok) return s.send(reply(sender.reason, sender.detail));
    const refusal = await s.ctx.defenses.checkMail(s.ip, sender.address);
    if (s.isClosed) return;
    if (refusal) return s.refuse('mail', refusal);
    // the backend is told who the client is when the connection is leased: its name must be known by then
    if (s.named) await s.named;
    const spf = await s.ctx.senders.spf(s.ip, s.helo, sender.address);
    if (s.isClosed) return;
    const spfRefusal = s.ctx.senders.spfRefusal(spf);
    if (spfRefusal) return s.refuse('mail', spfRefusal);
    const passOn = [...parsed.params].filter(([k]) => k !== 'AUTH').map(([k, v]) => (v === true ? k : `${k}=${v}`));
    const tx = new RelayTransaction({
      balancer: s.ctx.balancer(),
      who: s.identity,
      sender: sender.address,
      mailParams: passOn,
      spf,
      dataTimeout: config.backends.dataTimeout,
      chunking: config.backends.chunking,
      onFailover: (backend, why) => s.ctx.events.emit('failover', { backend: backend.name, why }),
    });
    s.tx = tx;
    s.txStarted = Date.now();
    s.transactions++;
    const result = await tx.begin();
    if (s.isClosed) return;
    if (!result.ok) {
      s.tx = null;
      report(s, tx, result);
      if (result.reply.reason !== 'backend-reply') s.ctx.events.refused(s.ip, 'mail', result.reply);
      return s.send(result.reply);
    }
    return s.send(ok('2.1.0', 'Ok'));
  },

  async RCPT(s, args, line) {
    const tx = s.tx;
    if (!tx) return s.send(reply('need-mail'));
    const parsed = parsePathArgs(args, 'TO');
    if (!parsed.ok) return s.send(reply(parsed.reason, parsed.detail));
    if (line.invalidUtf8) return s.send(reply('bad-address', 'not valid UTF-8'));
    // no DSN offered: NOTIFY= and ORCPT= have no place here
    for (const key of parsed.params.keys()) return s.send(reply('unknown-parameter', key));
    if (parsed.path === '') return s.send(reply('bad-address', 'a recipient cannot be empty'));
    const rcpt = normalizePath(parsed.path, tx.smtputf8);
    if (!rcpt.ok) return s.send(reply(rcpt.reason, rcpt.detail));
    const refusal = await s.ctx.defenses.checkRcpt(s.ip, tx.sender, rcpt.address, { authenticated: !!s.user, recipients: tx.recipients.length });
    if (s.isClosed) return;
    if (refusal) return s.refuse('rcpt', refusal);
    const result = await tx.addRecipient(rcpt.address);
    if (s.isClosed) return;
    if (result.ok) return s.send(fromBackend(result.reply));
    if (result.reply.reason !== 'backend-reply') s.ctx.events.refused(s.ip, 'rcpt', result.reply);
    return s.send(result.reply);
  },

  async DATA(s, args) {
    const tx = s.tx;
    if (!tx) return s.send(reply('need-mail'));
    if (tx.recipients.length === 0) return s.send(reply('need-rcpt'));
    if (args) return s.send(reply('bad-arguments', 'DATA takes no argument'));
    const opened = await tx.openData();
    if (s.isClosed) return;
    if (!opened.ok) {
      if (opened.reply.reason !== 'backend-reply') {
        s.tx = null;
        report(s, tx, opened);
        s.ctx.events.refused(s.ip, 'data', opened.reply);
      }
      return s.send(opened.reply);
    }
    await s.send({ code: 354, enhanced: '', text: 'End data with <CR><LF>.<CR><LF>' });
    const config = s.ctx.config();
    const id = `${s.id}.${s.transactions}`;
    const auth = s.ctx.senders.message(tx.spf);
    const inspection = s.ctx.defenses.inspect(s.ip, { from: tx.sender, to: tx.recipients }, auth?.stage);
    const trace = receivedHeader({ helo: s.helo, clientIp: s.ip, hostname: config.hostname, protocol: protocolOf(s), id, recipients: tx.recipients });
    const tag = s.reputationTag ? `X-Attitude-Reputation: ${s.reputationTag}\r\n` : '';
    // our own headers go on top; what needs the whole message (spam score, DKIM, DMARC) only when it fits the hold-back
    const hold = new HoldBack(HOLD_BYTES, (complete) => trace + (complete ? (auth?.header() ?? '') : '') + tag + inspection.headers(complete), s.ctx.holdBudget);
    const stuffer = new DotStuffer(!tx.chunked);
    const message = s.reader.message();
    const result = await tx.streamData(message, [...inspection.stages, hold, stuffer], () => stuffer.endsWithCrlf(), auth?.finish).finally(() => hold.dispose());
    const end = await message.finished();
    s.tx = null;
    report(s, tx, result, { id, size: inspection.size(), messageId: inspection.messageId() });
    if (end === 'idle') return s.goodbye(reply('idle-timeout'), 'session');
    if (end === 'closed') return;
    if (!result.ok) {
      if (result.reply.reason !== 'backend-reply') s.ctx.events.refused(s.ip, 'data', result.reply);
      return s.send(result.reply);
    }
    // a client that delivers mail is known good: the reserve of connections is open to it
    s.ctx.pressure.delivered(s.ip);
    return s.send(fromBackend(result.reply), true);
  },

  async RSET(s) {
    await s.endTransaction();
    return s.send(ok('2.0.0', 'Ok'));
  },

  NOOP: (s) => s.send(ok('2.0.0', 'Ok')),

  async QUIT(s) {
    await s.endTransaction();
    s.quit({ code: 221, enhanced: '2.0.0', text: 'Bye' });
  },

  // RFC 5321 3.5.3: a server that will not verify says 252 and takes the message anyway
  VRFY: (s) => s.send({ code: 252, enhanced: '2.5.0', text: 'Cannot VRFY user, but will accept message and attempt delivery' }),

  HELP: (s) => s.send({ code: 214, enhanced: '2.0.0', text: 'See RFC 5321' }),

  async STARTTLS(s, args) {
    const context = s.ctx.secureContext();
    if (!context || !s.ctx.config().tls) return s.send(reply('not-implemented'));
    if (s.secure) return s.send(reply('bad-sequence', 'TLS is already on'));
    if (args) return s.send(reply('bad-arguments', 'STARTTLS takes no argument'));
    await s.send({ code: 220, enhanced: '2.0.0', text: 'Ready to start TLS' });
    // anything the client pipelined after STARTTLS was sent in the clear: dropped (CVE-2011-0411)
    s.reader.discardUnread();
    await s.upgrade(context);
  },

  AUTH: (s, args) => authenticate(s, args),
};

/** A backend's positive reply as the client gets it, its own enhanced code in front (2.0.0 when it gave none). */
function fromBackend(r: SmtpReply): Wire {
  const m = /^(2\.\d{1,3}\.\d{1,3}) ([^]*)$/.exec(r.text);
  return m ? { code: r.code, enhanced: m[1], text: m[2] } : { code: r.code, enhanced: '2.0.0', text: r.text };
}

/** What DATA knows of the message for its transaction line. */
interface MessageFacts {
  id: string;
  size: number;
  messageId: string | null;
}

/**
 * One transaction line for the logs and the metrics. The recipients go in as
 * log.recipients allows, here and not in the logger: the in-process simulator records
 * these events too, and what the admin keeps out of the log stays out of its files.
 */
function report(s: Session, tx: RelayTransaction, result: StepResult, message: MessageFacts = { id: `${s.id}.${s.transactions}`, size: 0, messageId: null }): void {
  const code = result.ok ? 250 : result.reply.code;
  const reason = result.ok ? null : result.reply.reason;
  const to = recipientsForLog(tx.recipients, s.ctx.config().log.recipients);
  s.ctx.events.emit('transaction', {
    id: message.id,
    client: s.ip,
    sender: tx.sender,
    recipients: tx.recipients.length,
    ...(to ? { to } : {}),
    size: message.size,
    backend: tx.backendName,
    outcome: result.ok ? 'delivered' : reason === 'client-gone' ? 'aborted' : code >= 500 ? 'rejected' : 'deferred',
    reply: result.ok ? `250 ${result.reply.text.split('\n')[0]}` : `${code} ${result.reply.enhanced} ${result.reply.text.split('\n')[0]}`,
    queueId: result.ok ? queueIdOf(result.reply.text) : null,
    messageId: message.messageId,
    ms: Date.now() - s.txStarted,
  });
}
