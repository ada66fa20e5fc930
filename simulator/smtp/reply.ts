// Reading an SMTP reply the way a report needs it: code, enhanced status code,
// and the reason: the reference proxy's label when the text is one of its
// replies, otherwise the class of the reply (reply-class.ts: any proxy can be a target).
import { REPLIES } from '../../proxy/replies.ts';
import { ReplyLines } from '../../proxy/relay/reply-lines.ts';
import type { ReplyInfo } from '../events.ts';
import { classifyReply } from './reply-class.ts';

export interface SmtpReply {
  code: number;
  /** every line's text without the code, joined by "\n" */
  text: string;
}

/** Whole replies (multi-line ones joined) from received bytes; any target may send garbage, so nothing is refused. */
export class ReplyReader {
  private readonly lines = new ReplyLines();

  /** Bytes of an unfinished line (a peer that never ends its line is cut off by the caller). */
  get pendingBytes(): number {
    return this.lines.pendingBytes;
  }

  feed(data: Buffer): SmtpReply[] {
    const replies: SmtpReply[] = [];
    this.lines.feed(data, (lines) => {
      const code = Number(lines[lines.length - 1].slice(0, 3));
      replies.push({ code: Number.isFinite(code) ? code : 0, text: lines.map((l) => l.slice(4)).join('\n') });
    });
    return replies;
  }
}

const ENHANCED = /^([245]\.\d{1,3}\.\d{1,3})\s+/;
// a text with a %s placeholder is known by what comes before it
const KNOWN = Object.entries(REPLIES).map(([reason, r]) => ({ reason, code: r.code as number, text: (r.text as string).split('%s')[0] }));

export function reasonOf(code: number, text: string): string | null {
  const body = text.replace(ENHANCED, '');
  for (const k of KNOWN) if (k.code === code && body.startsWith(k.text)) return k.reason;
  return null;
}

/** The `ReplyInfo` of events: `text` is the first line, bounded. */
export function replyInfo(reply: SmtpReply): ReplyInfo {
  const first = reply.text.split('\n')[0];
  const m = ENHANCED.exec(first);
  const enhanced = m ? m[1] : null;
  // a refusal is always classed; a 2xx or 3xx has a reason only when it is one of the proxy's
  const reason = reasonOf(reply.code, first) ?? (reply.code >= 400 ? classifyReply(reply.code, enhanced, reply.text) : null);
  return { code: reply.code, enhanced, reason, text: first.slice(0, 200) };
}

/** A failure without a reply (refused TCP connection, reset, timeout). */
export function noReply(reason: string, text = reason): ReplyInfo {
  return { code: null, enhanced: null, reason, text: text.slice(0, 200) };
}
