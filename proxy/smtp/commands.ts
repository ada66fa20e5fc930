// Reading SMTP command lines (RFC 5321 4.1): the verb, and for MAIL and RCPT the
// path and its parameters. Pure functions: the dialogue decides what they mean.
import type { ReplyReason } from '../replies.ts';

export interface CommandLine {
  /** upper case; '' for an empty line */
  verb: string;
  /** everything after the verb and its space */
  args: string;
}

export function parseCommand(line: string): CommandLine {
  const space = line.indexOf(' ');
  if (space < 0) return { verb: line.toUpperCase(), args: '' };
  return { verb: line.slice(0, space).toUpperCase(), args: line.slice(space + 1) };
}

/** `GET / HTTP/1.1` and friends: a browser or a proxy probe on the SMTP port. */
export function isHttpRequest(cmd: CommandLine): boolean {
  return /^(GET|POST|HEAD|PUT|DELETE|OPTIONS|CONNECT|PATCH)$/.test(cmd.verb) && / HTTP\/\d/.test(cmd.args);
}

export type PathArgs =
  | { ok: true; path: string; params: Map<string, string | true> }
  | { ok: false; reason: ReplyReason; detail: string };

/**
 * `FROM:<path> KEY=VALUE ...` (or `TO:`). Like Postfix, a space after the colon and a
 * path without angle brackets are taken; the path is returned without its brackets,
 * quotes and escapes inside it untouched.
 */
export function parsePathArgs(args: string, keyword: 'FROM' | 'TO'): PathArgs {
  const head = new RegExp(`^${keyword}:\\s*`, 'i').exec(args);
  if (!head) return { ok: false, reason: 'bad-arguments', detail: `expected ${keyword}:<address>` };
  const rest = args.slice(head[0].length);
  let path: string;
  let after: string;
  if (rest.startsWith('<')) {
    const end = closingBracket(rest);
    if (end < 0) return { ok: false, reason: 'bad-arguments', detail: 'no closing > in the address' };
    path = rest.slice(1, end);
    after = rest.slice(end + 1);
    if (after !== '' && !after.startsWith(' ')) return { ok: false, reason: 'bad-arguments', detail: 'text after the address' };
  } else {
    const space = rest.indexOf(' ');
    path = space < 0 ? rest : rest.slice(0, space);
    after = space < 0 ? '' : rest.slice(space);
    if (path === '') return { ok: false, reason: 'bad-arguments', detail: `expected ${keyword}:<address>` };
  }
  const params = new Map<string, string | true>();
  for (const word of after.split(' ')) {
    if (word === '') continue;
    const eq = word.indexOf('=');
    const key = (eq < 0 ? word : word.slice(0, eq)).toUpperCase();
    if (!/^[A-Z0-9][A-Z0-9-]*$/.test(key)) return { ok: false, reason: 'bad-arguments', detail: `bad parameter ${JSON.stringify(word.slice(0, 40))}` };
    params.set(key, eq < 0 ? true : word.slice(eq + 1));
  }
  return { ok: true, path, params };
}

/** Index of the `>` that closes the path opened at 0, skipping quoted strings and escapes. */
function closingBracket(s: string): number {
  let quoted = false;
  for (let i = 1; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (c === '>' && !quoted) return i;
  }
  return -1;
}
