// A small score-based spam filter: each rule that hits adds its score once; at
// rejectScore the message is refused, otherwise it gets an X-Spam-Score header.
// Header rules see the top-level headers as "Name: value" lines (unfolded, RFC 2047
// words decoded); body rules see the lines of text parts, base64 and quoted-printable
// decoded. Only the first MAX_BODY = 256 KB of body text is looked at, so a huge
// message costs no more than that; spam carries its pitch near the top anyway.
// GTUBE, the spam test string (SpamAssassin's, scored 1000 there too), is a rule of
// every rule set, the configured ones included: like EICAR for the worm filter, it is
// how an admin checks that the filter is in the path.
import type { ProxyConfig } from '../config/schema.ts';
import { Base64Decoder, decodeQuotedPrintable } from './decoders.ts';
import type { ContentFilter, FilterContext, FilterRun, FilterVerdict } from './filter.ts';
import { decodeEncodedWords } from './mime-params.ts';
import { LineSplitter, MimeScanner, type PartInfo } from './mime-scan.ts';

export const MAX_BODY = 256 * 1024;

export const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

export type SpamRuleConfig = ProxyConfig['filters']['spam']['rules'][number];

interface Facts {
  headers: string[];
  hasDate: boolean;
  hasMessageId: boolean;
  subject: string | null;
  recipients: number;
  urls: number;
  gtube: boolean;
}

/** A rule compiled: header and body tests run per line while streaming, `final` once at the end. */
interface Rule {
  name: string;
  score: number;
  header?: (line: string) => boolean;
  body?: (line: string) => boolean;
  /**
   * The body test gives the same answer on a run of whole lines as on each of them: it
   * cannot match across a line break (no anchors, no class or `\s` that takes CR or LF).
   * When every body rule says so, the body is tested a chunk at a time, not a line.
   */
  anyLines?: boolean;
  final?: (facts: Facts) => boolean;
}

const PHRASES =
  /\b(viagra|cialis|lottery|you have (been selected|won)|claim your (prize|reward)|100% free|risk[- ]free|act now|limited time offer|wire transfer|double your (money|income)|work from home|no credit check|miracle cure|casino bonus)\b/i;

/**
 * Used when filters.spam.rules is empty. Scores are set so that one sign alone never
 * refuses at the default rejectScore 5, but a spam phrase with an all-caps subject and
 * a missing header does.
 */
export const DEFAULT_RULES: readonly Rule[] = [
  { name: 'MISSING_DATE', score: 1, final: (f) => !f.hasDate },
  { name: 'MISSING_MESSAGE_ID', score: 1, final: (f) => !f.hasMessageId },
  { name: 'MANY_RECIPIENTS', score: 1.5, final: (f) => f.recipients > 20 },
  { name: 'MANY_URLS', score: 1.5, final: (f) => f.urls > 10 },
  // at least 8 letters and none lower-case; a config regex could not say this, rules match case-insensitively
  { name: 'SUBJECT_ALL_CAPS', score: 1.5, final: (f) => !!f.subject && /(?:[^a-z]*[A-Z]){8}/.test(f.subject) && !/\p{Ll}/u.test(f.subject) },
  { name: 'SUBJECT_SPAM_PHRASE', score: 2, header: (l) => /^subject:/i.test(l) && PHRASES.test(l) },
  // PHRASES is words and literal spaces: a match never spans two lines
  { name: 'BODY_SPAM_PHRASE', score: 3, body: (l) => PHRASES.test(l), anyLines: true },
];

/** @throws Error naming the rule whose regex does not compile */
export function compileRules(rules: readonly SpamRuleConfig[]): Rule[] {
  return rules.map((r) => {
    const regex = (source: string) => {
      try {
        const re = new RegExp(source, 'i');
        return (line: string) => re.test(line);
      } catch (err) {
        throw new Error(`spam rule ${r.name}: invalid regex ${JSON.stringify(source)}: ${(err as Error).message}`);
      }
    };
    const over = r.over ?? 0;
    const tests: Record<NonNullable<SpamRuleConfig['test']>, (f: Facts) => boolean> = {
      'missing-date': (f) => !f.hasDate,
      'missing-message-id': (f) => !f.hasMessageId,
      recipients: (f) => f.recipients > over,
      urls: (f) => f.urls > over,
    };
    // a rule with several conditions hits when any of them does
    return { name: r.name, score: r.score, header: r.header ? regex(r.header) : undefined, body: r.body ? regex(r.body) : undefined, final: r.test ? tests[r.test] : undefined };
  });
}

const GTUBE_RULE: Rule = { name: 'GTUBE', score: 1000, final: (f) => f.gtube };

export function spamFilter(options: { rejectScore: number; rules: readonly SpamRuleConfig[] }): ContentFilter {
  const rules = [...(options.rules.length > 0 ? compileRules(options.rules) : DEFAULT_RULES), GTUBE_RULE];
  return { name: 'spam', start: (ctx) => new SpamRun(rules, options.rejectScore, ctx) };
}

class SpamRun implements FilterRun {
  private readonly hits = new Set<Rule>();
  private readonly facts: Facts;
  private readonly scanner: MimeScanner;
  private bodyBytes = 0;
  private decode: ((piece: Buffer) => Buffer) | null = null;
  private lines: LineSplitter | null = null;
  private plain = false;
  /** the end of the last piece of a line cut at MAX_LINE, so GTUBE across the cut is found */
  private gtubeCarry = '';
  /** body rules are tested on runs of lines (Rule.anyLines) */
  private readonly byRuns: boolean;
  /** the run of body lines not yet looked at: adjacent views of one buffer, as its bounds */
  private run: ArrayBufferLike | null = null;
  private runStart = 0;
  private runEnd = 0;
  private runLineStart = true;

  constructor(
    private readonly rules: readonly Rule[],
    private readonly rejectScore: number,
    ctx: FilterContext,
  ) {
    this.facts = { headers: [], hasDate: false, hasMessageId: false, subject: null, recipients: ctx.envelope.to.length, urls: 0, gtube: false };
    this.byRuns = rules.every((r) => !r.body || r.anyLines);
    this.scanner = new MimeScanner({
      header: (name, value, depth) => depth === 0 && this.header(name, value),
      partStart: (part) => this.startPart(part),
      body: (piece, _part, lineStart) => {
        if (this.bodyBytes >= MAX_BODY) return;
        // plain text comes from the scanner line by line already; decoded text needs splitting anew
        if (this.plain) this.bodyPiece(piece, lineStart);
        else if (this.lines && this.decode) this.lines.write(this.decode(piece));
      },
      partEnd: () => {
        this.lines?.end();
        this.flushRun();
      },
      // line by line, rules see one line at a time
      bodyLines: !this.byRuns,
    });
  }

  write(chunk: Buffer): void {
    if (this.bodyBytes >= MAX_BODY) return;
    this.scanner.write(chunk);
    // the caller may reuse its chunk once this returns: the run is looked at now
    this.flushRun();
  }

  end(): FilterVerdict {
    this.scanner.end();
    this.flushRun();
    for (const rule of this.rules) if (rule.final?.(this.facts)) this.hits.add(rule);
    const hits = [...this.hits];
    const score = round(hits.reduce((sum, r) => sum + r.score, 0));
    const list = hits.map((r) => `${r.name}=${round(r.score)}`).join(', ');
    if (score >= this.rejectScore) return { action: 'refuse', reason: 'spam', detail: `score ${score} >= ${this.rejectScore}: ${list}` };
    const headers: Array<[string, string]> = [['X-Spam-Score', String(score)]];
    if (list) headers.push(['X-Spam-Rules', list]);
    return { action: 'accept', headers };
  }

  private header(name: string, value: string): void {
    const key = name.toLowerCase();
    if (key === 'date') this.facts.hasDate = true;
    if (key === 'message-id') this.facts.hasMessageId = true;
    const decoded = decodeEncodedWords(value);
    if (key === 'subject') this.facts.subject = decoded;
    const line = `${name}: ${decoded}`;
    for (const rule of this.rules) if (rule.header?.(line)) this.hits.add(rule);
  }

  private startPart(part: PartInfo): void {
    // only text is read: an attachment's bytes say nothing a phrase rule could use
    const text = part.contentType.startsWith('text/');
    this.decode = !text ? null : part.encoding === 'base64' ? decoderOf(new Base64Decoder()) : part.encoding === 'quoted-printable' ? decodeQuotedPrintable : null;
    this.plain = text && this.decode === null;
    this.lines = this.decode ? new LineSplitter((piece, lineStart) => this.bodyPiece(piece, lineStart)) : null;
  }

  /** A piece of a body line (a whole line unless it is longer than MAX_LINE). */
  private bodyPiece(piece: Buffer, lineStart: boolean): void {
    if (this.bodyBytes >= MAX_BODY) return;
    this.bodyBytes += piece.length;
    if (!this.byRuns) return this.look(piece.toString('utf8'), lineStart, true);
    if (this.run === piece.buffer && this.runEnd === piece.byteOffset) {
      this.runEnd += piece.length;
      return;
    }
    this.flushRun();
    this.run = piece.buffer;
    this.runStart = piece.byteOffset;
    this.runEnd = piece.byteOffset + piece.length;
    this.runLineStart = lineStart;
  }

  private flushRun(): void {
    if (!this.run) return;
    const text = Buffer.from(this.run, this.runStart, this.runEnd - this.runStart).toString('utf8');
    this.run = null;
    this.look(text, this.runLineStart, false);
  }

  /** Body text: one line (piece) or a run of them; `lineStart`: it starts a line. */
  private look(text: string, lineStart: boolean, oneLine: boolean): void {
    if (text.includes('://')) this.facts.urls += text.match(/\bhttps?:\/\//gi)?.length ?? 0;
    if (!this.facts.gtube) {
      this.facts.gtube = (lineStart ? text : this.gtubeCarry + text).includes(GTUBE);
      this.gtubeCarry = text.slice(-(GTUBE.length - 1));
    }
    // line by line, rules see each line's first MAX_LINE bytes
    if (oneLine && !lineStart) return;
    const lines = oneLine ? withoutLineEnd(text) : text;
    // a rule counts once: one that already hit need not look at more lines
    for (const rule of this.rules) if (rule.body && !this.hits.has(rule) && rule.body(lines)) this.hits.add(rule);
  }
}

function decoderOf(d: Base64Decoder): (piece: Buffer) => Buffer {
  return (piece) => d.write(piece);
}

function withoutLineEnd(text: string): string {
  if (!text.endsWith('\n')) return text;
  return text.slice(0, text.endsWith('\r\n') ? -2 : -1);
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
