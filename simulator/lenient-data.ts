// How an unpatched receiver reads DATA: it also takes bare-LF / bare-CR / NUL
// variants of `<CRLF>.<CRLF>` for the end (the SMTP smuggling research of SEC
// Consult, 2023). A mock backend with `lenientDataEnd` applies these rules to
// what it received, so a scenario can show what a proxy that passes such bytes
// through would let happen. The patterns only match what a proxy that keeps to
// CRLF lines (with escaped dots) can never produce.

const LENIENT_ENDS: RegExp[] = [
  /(?<!\r)\n\.\n/, // \n.\n
  /(?<!\r)\n\.\r\n/, // \n.\r\n
  /\r\.\r\n/, // \r.\r\n
  /\r\n\.\r(?!\n)/, // \r\n.\r
  /\r\.\r(?!\n)/, // \r.\r
  /\r\.\n/, // \r.\n
  /(?<!\r)\n\.\r(?!\n)/, // \n.\r
  /\r\n\x00\.\r\n/, // NUL before the dot
  /\r\n\.\x00\r\n/, // NUL after the dot
];

/** Where a lenient receiver would have ended the message: [at, after) is the fake end. */
export function findLenientEnd(raw: Buffer): { at: number; after: number } | null {
  const text = raw.toString('latin1');
  let best: { at: number; after: number } | null = null;
  for (const re of LENIENT_ENDS) {
    const m = re.exec(text);
    if (m && (!best || m.index < best.at)) best = { at: m.index, after: m.index + m[0].length };
  }
  return best;
}

/** The transaction after a fake end, as the lenient receiver would run it: MAIL, RCPTs, DATA, content. */
export function parseSmuggled(rest: Buffer, idPattern: RegExp): { id: string | null; from: string; to: string[]; size: number; raw: Buffer } | null {
  const text = rest.toString('latin1');
  const lineEnd = /\r\n|\n|\r/g;
  let from: string | null = null;
  const to: string[] = [];
  let pos = 0;
  for (let i = 0; i < 50; i++) {
    lineEnd.lastIndex = pos;
    const m = lineEnd.exec(text);
    if (!m) return null;
    const line = text.slice(pos, m.index);
    pos = m.index + m[0].length;
    const mail = /^MAIL FROM:\s*<([^>]*)>/i.exec(line);
    const rcpt = /^RCPT TO:\s*<([^>]*)>/i.exec(line);
    if (mail) from = mail[1];
    else if (rcpt) to.push(rcpt[1]);
    else if (/^DATA\s*$/i.test(line)) {
      if (from === null || !to.length) return null;
      let content = text.slice(pos);
      const end = /\r\n\.\r\n/.exec(content);
      if (end) content = content.slice(0, end.index + 2);
      const headerEnd = content.search(/\r?\n\r?\n/);
      const id = idPattern.exec(content.slice(0, headerEnd < 0 ? content.length : headerEnd));
      const raw = Buffer.from(content, 'latin1');
      return { id: id ? id[1] : null, from, to, size: raw.length, raw };
    } else if (!/^(HELO|EHLO|RSET|NOOP)\b/i.test(line) && line.trim() !== '') return null;
  }
  return null;
}
