// Reading MIME header values the way mail clients do, so a file name cannot hide in an
// encoding the filter does not read: RFC 2045 parameters (quoted or not), RFC 2231
// encoded and continued parameters (`filename*0*=utf-8''a%2E; filename*1=exe`), and
// RFC 2047 encoded words, which RFC 2047 forbids in parameters but clients decode anyway.
//
// Encoded words are decoded by libmime (Nodemailer's, as mailparser and the webmails
// built on it read them: adjacent words of one charset joined before decoding, so a
// name split across words is one name). Parameters are split here, every occurrence
// kept: clients disagree on which of `filename` and `filename*` (or of two `filename`s)
// names the file, and the filter must see each. libmime's own reading of the header is
// added where it differs, so the filter sees at least what a libmime-based client does.
import libmime from 'libmime';

export interface HeaderValue {
  /** The value before the first `;`, e.g. `multipart/mixed` (as written). */
  value: string;
  /** Parameters in order; names lower-cased; an RFC 2231 one is named `name*` and already decoded. */
  params: Array<[string, string]>;
}

export function decodeCharset(bytes: Buffer, charset: string): string {
  try {
    return new TextDecoder(charset.trim().toLowerCase() || 'utf-8').decode(bytes);
  } catch {
    return bytes.toString('latin1'); // unknown charset: every byte still shows up as one character
  }
}

/** Decodes RFC 2047 encoded words (libmime); whitespace between two adjacent words disappears. */
export function decodeEncodedWords(text: string): string {
  if (!text.includes('=?')) return text;
  return libmime.decodeWords(text);
}

/** Splits at `;` outside quoted strings. */
function splitParams(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted && c === '\\') {
      cur += c + (text[++i] ?? '');
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ';' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function unquote(v: string): string {
  const t = v.trim();
  if (!t.startsWith('"')) return t;
  const inner = t.endsWith('"') && t.length > 1 ? t.slice(1, -1) : t.slice(1);
  return inner.replace(/\\(.)/g, '$1');
}

function percentDecode(text: string): Buffer {
  return Buffer.from(text.replace(/%([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
}

interface Segment {
  index: number;
  encoded: boolean;
  value: string;
}

/** Parses `type/subtype; a=b; c="d"; e*=utf-8''f; g*0=h; g*1*=%69` (Content-Type, Content-Disposition). */
export function parseHeaderValue(text: string): HeaderValue {
  const [first, ...rest] = splitParams(text);
  const params: Array<[string, string]> = [];
  const continued = new Map<string, Segment[]>();
  for (const item of rest) {
    const eq = item.indexOf('=');
    if (eq < 0) continue;
    const name = item.slice(0, eq).trim().toLowerCase();
    const raw = item.slice(eq + 1).trim();
    const m = /^([^*]+)\*(?:(\d{1,3})(\*)?)?$/.exec(name);
    if (!m) {
      params.push([name, decodeEncodedWords(unquote(raw))]);
      continue;
    }
    // `name*` alone is one encoded segment; `name*N` plain, `name*N*` encoded
    const segment = { index: m[2] === undefined ? 0 : Number(m[2]), encoded: m[2] === undefined || m[3] === '*', value: unquote(raw) };
    const list = continued.get(m[1]) ?? [];
    list.push(segment);
    continued.set(m[1], list);
  }
  for (const [name, segments] of continued) {
    segments.sort((a, b) => a.index - b.index);
    let charset = 'utf-8';
    const parts: Buffer[] = [];
    // without a charset nothing was percent-encoded, and encoded words in the joined value are read as words
    const plain = !segments[0].encoded;
    segments.forEach((s, i) => {
      let value = s.value;
      if (s.encoded && i === 0) {
        const m = /^([^']*)'[^']*'(.*)$/s.exec(value);
        if (m) {
          charset = m[1] || 'utf-8';
          value = m[2];
        }
      }
      parts.push(s.encoded ? percentDecode(value) : Buffer.from(value, 'utf8'));
    });
    const joined = decodeCharset(Buffer.concat(parts), charset);
    params.push([`${name}*`, plain ? decodeEncodedWords(joined) : joined]);
    if (plain && joined.includes('=?')) params.push([`${name}*`, joined]);
  }
  if (/name/i.test(text)) addLibmimeReading(text, params);
  return { value: first.trim(), params };
}

/**
 * libmime's reading of a header's name parameters as mailparser takes it (a value
 * assembled from RFC 2231 segments is decoded already, any other has its encoded words
 * decoded), each one added when no variant of ours says the same.
 */
function addLibmimeReading(text: string, params: Array<[string, string]>): void {
  const parsed = libmime.parseHeaderValue(text);
  const decoded = new Set((parsed as { decodedParams?: string[] }).decodedParams ?? []);
  for (const name of ['name', 'filename']) {
    const raw = Object.hasOwn(parsed.params, name) ? parsed.params[name] : undefined;
    if (typeof raw !== 'string' || raw === '') continue;
    const value = decoded.has(name) ? raw : decodeEncodedWords(raw);
    const key = decoded.has(name) ? `${name}*` : name;
    if (!params.some(([n, v]) => (n === name || n === `${name}*`) && v === value)) params.push([key, value]);
  }
}
