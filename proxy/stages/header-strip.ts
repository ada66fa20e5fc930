// Drops header fields a sender may not bring along: verdicts the proxy writes itself
// (Authentication-Results with our host name as authserv-id, RFC 8601 5; the spam
// score; our tags). A backend that trusts them must only ever see ours, which go on top.
// Only the header section is looked at; the body passes untouched, so a DKIM
// signature (which never covers these fields in practice) still verifies.
import { joinAdjacent, type Stage } from './stage.ts';

/** A header field longer than this is passed on as it is (memory stays bounded). */
const MAX_FIELD = 64 * 1024;

export class HeaderStripper implements Stage {
  /** the header field being read (it may go on in folded lines) */
  private field: Buffer[] = [];
  private fieldBytes = 0;
  /** the current line so far (the header section is cut into lines) */
  private line: Buffer[] = [];
  private inBody = false;

  constructor(private readonly drop: (field: string) => boolean) {}

  write(chunk: Buffer, out: Buffer[]): void {
    if (this.inBody) return void out.push(chunk);
    const kept: Buffer[] = [];
    this.take(chunk, kept);
    out.push(...joinAdjacent(kept));
  }

  private take(chunk: Buffer, out: Buffer[]): void {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      this.line.push(chunk.subarray(start, nl + 1));
      start = nl + 1;
      const line = this.line.length === 1 ? this.line[0] : Buffer.concat(this.line);
      this.line = [];
      if (this.takeLine(line, out)) {
        out.push(chunk.subarray(start));
        return;
      }
    }
    if (start < chunk.length) this.line.push(chunk.subarray(start));
  }

  end(out: Buffer[]): void {
    if (this.line.length) {
      const rest = Buffer.concat(this.line);
      this.line = [];
      this.takeLine(rest, out);
    }
    this.flush(out);
  }

  /** One header line; true when it was the blank line that starts the body. */
  private takeLine(line: Buffer, out: Buffer[]): boolean {
    const folded = line[0] === 0x20 || line[0] === 0x09;
    if (folded && this.field.length && this.fieldBytes < MAX_FIELD) {
      this.field.push(line);
      this.fieldBytes += line.length;
      return false;
    }
    this.flush(out);
    if (line.length <= 2 && (line[0] === 0x0d || line[0] === 0x0a)) {
      out.push(line);
      this.inBody = true;
      return true;
    }
    this.field = [line];
    this.fieldBytes = line.length;
    return false;
  }

  private flush(out: Buffer[]): void {
    if (!this.field.length) return;
    const field = this.field;
    this.field = [];
    if (this.fieldBytes < MAX_FIELD && this.drop(Buffer.concat(field).toString('latin1'))) return;
    out.push(...field);
  }
}

/** The fields a sender may not bring: ours (by name), and Authentication-Results that claim `hostname`. */
export function forgedVerdicts(hostname: string): (field: string) => boolean {
  const host = hostname.toLowerCase();
  return (field) => {
    const colon = field.indexOf(':');
    if (colon < 0) return false;
    const name = field.slice(0, colon).trim().toLowerCase();
    if (name === 'x-spam-score' || name === 'x-spam-rules' || name === 'x-attitude-reputation' || name === 'x-attitude-archive' || name === 'x-attitude-dmarc') return true;
    if (name !== 'authentication-results') return false;
    // authserv-id: the first token of the value, before any comment or ';'
    const id = field.slice(colon + 1).replace(/\([^)]*\)/g, ' ').trim().split(/[\s;]/)[0]?.toLowerCase();
    return id === host;
  };
}
