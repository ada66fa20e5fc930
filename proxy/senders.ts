// Sender authentication with mailauth (by nodemailer's author): SPF at MAIL FROM, and
// DKIM and DMARC over the message as it streams, asked through the proxy's resolver.
// senders.spf: off | tag | reject (an SPF fail gets 550 5.7.23); senders.dmarc:
// off | tag | enforce (p=reject gets 550 5.7.1 after the dot, p=quarantine a tag).
// The verdicts go into an Authentication-Results header for our host name, on top of
// the message; the message itself passes byte for byte, so its DKIM signature still
// verifies at the backend.
import { PassThrough } from 'node:stream';
import mailauth from 'mailauth';
import type { DKIMVerifyResult, DMARCResult, SPFResult } from 'mailauth';
import type { ProxyConfig } from './config/schema.ts';
import type { Dns } from './dns.ts';
import { reply, type Reply } from './replies.ts';
import type { Stage } from './stages/stage.ts';
import { stageError } from './stages/stage-error.ts';

export interface SpfVerdict {
  result: string;
  /** the Authentication-Results part (`spf=fail smtp.mailfrom=...`) */
  info: string;
  /** the domain SPF was checked for, when it passed (DMARC's SPF alignment) */
  passedFor: string | null;
}

/** What the message's authentication adds: the header on top, and a refusal when DMARC says reject. */
export interface MessageAuth {
  /** passes every chunk on, and hands a copy to the DKIM verifier */
  stage: Stage;
  /** awaited after the last chunk, before the final dot: throws the DMARC refusal */
  finish(): Promise<void>;
  /** the Authentication-Results header (once finish() is done) */
  header(): string;
}

export class SenderAuth {
  constructor(
    private readonly config: () => ProxyConfig,
    private readonly dns: Dns,
  ) {}

  /** SPF for the envelope sender (the HELO name for the null sender); null when off. */
  async spf(ip: string, helo: string, sender: string): Promise<SpfVerdict | null> {
    const c = this.config();
    if (c.senders.spf === 'off' && c.senders.dmarc === 'off') return null;
    let r: SPFResult;
    try {
      r = await mailauth.spf({ sender: sender || `postmaster@${helo}`, ip, helo, mta: c.hostname, resolver: this.dns.resolve as never });
    } catch (err) {
      return { result: 'temperror', info: `spf=temperror (${(err as Error).message})`, passedFor: null };
    }
    return { result: r.status.result, info: r.info, passedFor: r.status.result === 'pass' ? r.domain : null };
  }

  /** Only a hard `fail` is refused (softfail, neutral, none and DNS errors pass: a DNS failure never blocks mail). */
  spfRefusal(v: SpfVerdict | null): Reply | null {
    if (!v || this.config().senders.spf !== 'reject' || v.result !== 'fail') return null;
    return reply('spf-fail', v.info);
  }

  /** DKIM and DMARC over the message; null when neither an SPF verdict nor DMARC needs a header. */
  message(spf: SpfVerdict | null): MessageAuth | null {
    const c = this.config();
    if (!spf && c.senders.dmarc === 'off') return null;
    const parts: string[] = spf ? [spf.info] : [];
    if (c.senders.dmarc === 'off') return { stage: passThrough, finish: async () => {}, header: () => authResults(c.hostname, parts) };
    const copy = new PassThrough({ highWaterMark: 64 * 1024 });
    const verified = mailauth.dkimVerify(copy, { resolver: this.dns.resolve as never }).catch((): DKIMVerifyResult | null => null);
    let quarantine = false;
    return {
      stage: {
        write(chunk, out) {
          copy.write(chunk);
          out.push(chunk);
        },
      },
      finish: async () => {
        copy.end();
        const dkim = await verified;
        if (!dkim) return;
        for (const r of dkim.results ?? []) parts.push(r.info);
        if (!dkim.headerFrom?.length) return;
        let d: DMARCResult | false;
        try {
          d = await mailauth.dmarc({
            headerFrom: dkim.headerFrom,
            spfDomains: spf?.passedFor ? [spf.passedFor] : [],
            dkimDomains: (dkim.results ?? []).filter((r) => r.status.result === 'pass').map((r) => ({ id: r.id, domain: r.signingDomain, aligned: r.status.aligned, underSized: r.status.underSized })),
            resolver: this.dns.resolve as never,
          });
        } catch {
          return;
        }
        if (!d) return;
        parts.push(d.info);
        if (d.status.result !== 'fail') return;
        const policy = d.policy;
        if (c.senders.dmarc === 'enforce' && policy === 'reject') throw stageError('dmarc-reject', `${d.domain} p=reject`);
        if (policy === 'quarantine' || policy === 'reject') quarantine = true;
      },
      header: () => authResults(c.hostname, parts) + (quarantine ? `X-Attitude-DMARC: quarantine\r\n` : ''),
    };
  }
}

const passThrough: Stage = { write: (chunk, out) => void out.push(chunk) };

/** RFC 8601: `Authentication-Results: host; part; part`, folded. */
function authResults(hostname: string, parts: string[]): string {
  if (!parts.length) return '';
  const clean = parts.map((p) => p.replace(/[\r\n]+\s*/g, ' ').trim()).filter(Boolean);
  return `Authentication-Results: ${hostname};\r\n\t${clean.join(';\r\n\t')}\r\n`;
}
