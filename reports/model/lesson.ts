// What a scenario's lesson is about, read from its words: which charts show it
// (first in the TUI, so an 80x24 projector shows them without paging), whether the
// per-client cap belongs on the connections chart, and what the same defense is
// called in Postfix, Haraka and HAProxy when the run's target is one of them.
import type { ChartId } from './charts.ts';
import type { RunModel } from './run-model.ts';
import { TARGET_LABEL, targetKind, type TargetKind } from './target.ts';

export interface Topic {
  id: string;
  /** what the lesson says when it is about this */
  mentions: RegExp;
  charts: ChartId[];
  /** the defense in words, for the notes on another target */
  name: string;
  /** the same defense elsewhere ('' when that target has none) */
  elsewhere?: { postfix: string; haraka: string; haproxy: string };
}

export const TOPICS: Topic[] = [
  {
    id: 'per-client',
    mentions: /per-client cap|perClient|cap per address|per address|per-client limit/i,
    charts: ['connections', 'refusals'],
    name: 'the per-client connection cap',
    elsewhere: {
      postfix: 'smtpd_client_connection_count_limit (anvil; postscreen_client_connection_count_limit in front)',
      haraka: 'limit.ini [concurrency] (haraka-plugin-limit)',
      haproxy: 'a stick-table storing conn_cur and tcp-request connection reject if { sc_conn_cur(0) gt N }',
    },
  },
  {
    id: 'greet-pause',
    mentions: /greet pause|pregreet|early talk|talks? (before|into)/i,
    charts: ['refusals', 'latency'],
    name: 'the greet pause',
    elsewhere: {
      postfix: 'postscreen_greet_wait and postscreen_greet_action',
      haraka: 'the early_talker plugin (early_talker.ini pause)',
      haproxy: 'tcp-request inspect-delay with tcp-request content reject if { req.len gt 0 }',
    },
  },
  {
    id: 'message-limits',
    mentions: /rate limit|recipients cap|recipient-rate|message rate/i,
    charts: ['refusals', 'latency'],
    name: 'message and recipient limits',
    elsewhere: {
      postfix: 'smtpd_client_message_rate_limit, smtpd_client_recipient_rate_limit, smtpd_recipient_limit',
      haraka: 'limit.ini [recipients] max and [rate_rcpt_host]',
      haproxy: '',
    },
  },
  {
    id: 'throttle',
    mentions: /throttl|bandwidth|backpressure/i,
    charts: ['bandwidth', 'latency'],
    name: 'the bandwidth throttle',
    elsewhere: { postfix: '', haraka: '', haproxy: 'a bandwidth-limit filter (HAProxy 2.7 and later)' },
  },
  {
    id: 'balancing',
    mentions: /balanc|round-robin|share the load/i,
    charts: ['backends'],
    name: 'load balancing',
    elsewhere: { postfix: 'transport_maps with randmap:{...} (a random pick per delivery)', haraka: 'smtp_forward.ini forwarding_host_pool', haproxy: 'balance roundrobin and server weights' },
  },
  {
    id: 'failover',
    mentions: /goes down|outage|failover|health check|comes back/i,
    charts: ['backends', 'latency'],
    name: 'failover and health checks',
    elsewhere: { postfix: 'the queue retries, smtp_fallback_relay', haraka: "the host pool's dead_forwarding_host_retry_secs", haproxy: 'option smtpchk, fall and rise, option redispatch' },
  },
  {
    id: 'stress',
    mentions: /stress mode|idlest/i,
    charts: ['connections', 'latency'],
    name: 'stress mode',
    elsewhere: { postfix: 'smtpd stress mode (automatic with postfix master; the smtpd_*_timeout ${stress?...} settings)', haraka: '', haproxy: '' },
  },
  {
    id: 'relay',
    mentions: /open relay|relay/i,
    charts: ['refusals'],
    name: 'relay authorization',
    elsewhere: { postfix: 'relay_domains with reject_unauth_destination', haraka: 'rcpt_to.in_host_list (config/host_list)', haproxy: '' },
  },
  {
    id: 'content',
    mentions: /attachment|smuggl|end-of-data|bare LF/i,
    charts: ['refusals'],
    name: 'content filters',
    elsewhere: { postfix: 'mime_header_checks for names, smtpd_forbid_bare_newline (3.8.4 and later)', haraka: 'the attachment plugin', haproxy: '' },
  },
  {
    id: 'dnsbl',
    mentions: /blocklist|dnsbl/i,
    charts: ['refusals'],
    name: 'DNS blocklists',
    elsewhere: { postfix: 'postscreen_dnsbl_sites and postscreen_dnsbl_threshold', haraka: 'the dns-list plugin', haproxy: '' },
  },
  {
    id: 'greylist',
    mentions: /greylist/i,
    charts: ['latency', 'refusals'],
    name: 'greylisting',
    elsewhere: { postfix: 'a postgrey policy service (check_policy_service in smtpd_recipient_restrictions)', haraka: 'the greylist plugin', haproxy: '' },
  },
  {
    id: 'sender-auth',
    mentions: /\bSPF\b|DMARC|DKIM/,
    charts: ['refusals'],
    name: 'SPF and DMARC',
    elsewhere: { postfix: 'postfix-policyd-spf and an OpenDMARC milter', haraka: 'the spf and dkim plugins (haraka-plugin-dmarc for DMARC)', haproxy: '' },
  },
  { id: 'latency', mentions: /latency/i, charts: ['latency'], name: 'latency' },
];

/** The topics of a lesson, in the order the lesson first mentions them. */
export function lessonTopics(lesson: string): Topic[] {
  // a YAML block breaks lines anywhere: "share\nthe load" is still said
  const text = lesson.replace(/\s+/g, ' ');
  return TOPICS.map((t) => ({ t, at: text.search(t.mentions) }))
    .filter((x) => x.at >= 0)
    .sort((a, b) => a.at - b.at)
    .map((x) => x.t);
}

export function isAbout(lesson: string, id: string): boolean {
  return lessonTopics(lesson).some((t) => t.id === id);
}

/**
 * `charts` reordered: what the lesson is about first, each topic's main chart in the
 * order the lesson mentions them, then their other charts, then the rest as they were
 * (a terminal that shows two charts shows the two the lesson needs most).
 */
export function chartsForLesson<C extends { id: ChartId }>(charts: C[], lesson: string): C[] {
  const topics = lessonTopics(lesson);
  const depth = Math.max(0, ...topics.map((t) => t.charts.length));
  const wanted: ChartId[] = [];
  for (let k = 0; k < depth; k++) for (const t of topics) if (t.charts[k] && !wanted.includes(t.charts[k])) wanted.push(t.charts[k]);
  const rank = (c: C) => {
    const i = wanted.indexOf(c.id);
    return i < 0 ? wanted.length + charts.indexOf(c) : i;
  };
  return [...charts].sort((a, b) => rank(a) - rank(b));
}

/**
 * Notes for a lesson written about attitude's proxy, read against another target:
 * the same defenses under that target's names (every peer's when the kind is unknown).
 */
export function targetNotes(lesson: string, kind: TargetKind): string[] {
  if (kind === 'attitude') return [];
  const peers = kind === 'postfix' || kind === 'haraka' || kind === 'haproxy' ? [kind] : (['postfix', 'haraka', 'haproxy'] as const);
  const label = { postfix: 'Postfix', haraka: 'Haraka', haproxy: 'HAProxy' } as const;
  const lines: string[] = [];
  for (const t of lessonTopics(lesson)) {
    if (!t.elsewhere) continue;
    const parts = peers.map((p) => `${label[p]}: ${t.elsewhere![p] || 'none'}`);
    lines.push(`${t.name}: ${parts.join('; ')}`);
  }
  if (/configs\/open\.yaml|configs\/default\.yaml|--proxy-config/.test(lesson)) lines.push('configs/open.yaml is attitude with its defenses off: against another target, compare with that target with its limits turned off');
  return lines;
}

/**
 * A lesson as paragraphs: the line breaks of a YAML block joined, blank lines kept
 * as paragraph breaks, list items (`- `) and indented lines on lines of their own.
 */
export function paragraphs(text: string): string[] {
  const out: string[] = [];
  let current: string[] = [];
  const flush = () => {
    if (current.length) out.push(current.join(' '));
    current = [];
  };
  for (const raw of text.trim().split('\n')) {
    const line = raw.trimEnd();
    if (!line.trim()) {
      flush();
      out.push('');
    } else if (/^\s*([-*]|\d+\.)\s/.test(line) || /^\s{2,}/.test(line)) {
      // a list item or an indented line stands on its own
      flush();
      out.push(line.trim());
    } else current.push(line.trim());
  }
  flush();
  return out.filter((p, i, all) => p !== '' || (i > 0 && all[i - 1] !== ''));
}

/** Words wrapped to `width` columns, never cut inside a word unless the word alone is wider. */
export function wrap(paragraph: string, width: number): string[] {
  const w = Math.max(10, width);
  const lines: string[] = [];
  let line = '';
  for (const word of paragraph.split(/\s+/).filter(Boolean)) {
    if (!line) line = word;
    else if (visible(line).length + 1 + visible(word).length <= w) line += ' ' + word;
    else {
      lines.push(line);
      line = word;
    }
    while (visible(line).length > w && !/`/.test(line)) {
      lines.push(line.slice(0, w));
      line = line.slice(w);
    }
  }
  if (line) lines.push(line);
  return lines.length ? lines : [''];
}

/** What is seen of a lesson's text: backticks are rendered, not shown. */
function visible(text: string): string {
  return text.replace(/`/g, '');
}

/** The lesson reflowed to `width` (backticks left for the renderer). */
export function reflow(text: string, width: number): string[] {
  return paragraphs(text).flatMap((p) => (p === '' ? [''] : wrap(p, width)));
}

/** For a run against another target: a heading naming it and the notes on its own names for the lesson's defenses (none in-process). */
export function lessonNotesFor(m: RunModel): { heading: string; notes: string[] } | null {
  if (!m.info?.external) return null;
  const kind = targetKind(m.targetBanner);
  const notes = targetNotes(m.info.lesson, kind);
  if (!notes.length) return null;
  return { heading: `This lesson is written for attitude's proxy; the target here is ${TARGET_LABEL[kind]}. The same defenses there:`, notes };
}
