// What the proxy adds to a message on its way to the backend: the Received trace
// header, and the wire encoding (dot-stuffing) that makes the final dot ours alone.
import { Transform, type TransformCallback } from 'node:stream';

export interface TraceInfo {
  helo: string;
  clientIp: string;
  hostname: string;
  protocol: string;
  id: string;
  recipients: string[];
  date?: Date;
}

function sanitize(value: string): string {
  // nothing a client sends may break the header onto a new line
  return value.replace(/[^\x21-\x7e]/g, '');
}

/** RFC 5321 4.4 trace header, folded so no line exceeds 78 characters in practice. */
export function receivedHeader(t: TraceInfo): string {
  const ip = t.clientIp.startsWith('::ffff:') ? t.clientIp.slice(7) : t.clientIp;
  const literal = ip.includes(':') ? `IPv6:${ip}` : ip;
  const helo = sanitize(t.helo) || 'unknown';
  const forPart = t.recipients.length === 1 ? `\r\n\tfor <${sanitize(t.recipients[0])}>` : '';
  return `Received: from ${helo} ([${literal}])\r\n\tby ${t.hostname} (attitude) with ${t.protocol} id ${t.id}${forPart};\r\n\t${(t.date ?? new Date()).toUTCString().replace('GMT', '+0000')}\r\n`;
}

/**
 * Dot-stuffing (RFC 5321 4.5.2) for a stream of CRLF lines. Remembers whether the
 * last bytes were CRLF so the caller knows if the final dot needs a line break first.
 */
export class DotStuffer extends Transform {
  /** 0: at line start, 1: saw CR, 2: mid-line */
  private state = 0;
  private last2 = '';

  constructor(atLineStart = true) {
    super();
    this.state = atLineStart ? 0 : 2;
  }

  get endsWithCrlf(): boolean {
    return this.state === 0 && this.last2 === '\r\n';
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    let out: Buffer[] | null = null;
    let from = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (this.state === 0 && c === 0x2e) {
        (out ??= []).push(chunk.subarray(from, i), DOT);
        from = i;
      }
      this.state = c === 0x0d ? 1 : c === 0x0a && this.state === 1 ? 0 : 2;
    }
    if (chunk.length >= 2) this.last2 = chunk.toString('latin1', chunk.length - 2);
    else if (chunk.length === 1) this.last2 = (this.last2 + chunk.toString('latin1')).slice(-2);
    if (!out) return callback(null, chunk);
    out.push(chunk.subarray(from));
    callback(null, Buffer.concat(out));
  }
}

const DOT = Buffer.from('.');
