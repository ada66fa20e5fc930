// A backend that answers by script: for tests of the failure cases a real server
// rarely produces on demand (451 to MAIL, silence, garbage).
import type net from 'node:net';
import { listenLoopback } from './loopback-server.ts';
import { parseProxyHeader, type ProxyHeader } from '../../proxy/smtp/proxy-header.ts';

/** The answer to a command line; `socket` lets a script stall the backend (pause it). */
export type Script = (line: string, socket: net.Socket) => string | null | 'hang' | 'close';

/** A feed of bytes that calls `onLine` with each CRLF line; `onLine` returns false to stop reading. */
export function crlfLines(onLine: (line: string) => boolean | void): (data: Buffer) => void {
  let buffer = '';
  return (data) => {
    buffer += data.toString('latin1');
    let nl: number;
    while ((nl = buffer.indexOf('\r\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 2);
      if (onLine(line) === false) return;
    }
  };
}

export interface ScriptedOptions {
  /**
   * Expect a PROXY protocol header (v1 or v2) before anything else, as Postfix with
   * `smtpd_upstream_proxy_protocol = haproxy` does: a connection without one is dropped
   * before the banner.
   */
  proxyHeader?: boolean;
}

export async function scriptedBackend(
  script: Script,
  banner = '220 scripted.test ESMTP',
  options: ScriptedOptions = {},
): Promise<{ port: number; address: string; lines: string[]; messages: string[]; headers: ProxyHeader[]; dropped: () => number; close(): Promise<void> }> {
  const lines: string[] = [];
  const headers: ProxyHeader[] = [];
  let dropped = 0;
  /** each message as received, dot-unstuffed, every line ended by CRLF */
  const messages: string[] = [];
  const serve = (socket: net.Socket, rest: Buffer) => {
    if (banner) socket.write(banner + '\r\n');
    let body: string[] | null = null;
    const take = crlfLines((line) => {
      if (body) {
        if (line !== '.') {
          body.push(line.startsWith('.') ? line.slice(1) : line, '\r\n');
          return;
        }
        messages.push(body.join(''));
        body = null;
      }
      lines.push(line);
      const answer = script(line, socket);
      if (answer === 'close') {
        socket.destroy();
        return false;
      }
      if (answer === 'hang' || answer === null) return;
      if (/^DATA$/i.test(line) && answer.startsWith('354')) body = [];
      socket.write(answer + '\r\n');
    });
    socket.on('data', take);
    take(rest);
  };
  const server = await listenLoopback((socket) => {
    if (!options.proxyHeader) return serve(socket, Buffer.alloc(0));
    let head = Buffer.alloc(0);
    let got = false;
    const onHead = (d: Buffer) => {
      head = Buffer.concat([head, d]);
      let parsed: ReturnType<typeof parseProxyHeader> = null;
      try {
        parsed = parseProxyHeader(head);
      } catch {
        dropped++;
        return socket.destroy();
      }
      if (!parsed) return;
      socket.off('data', onHead);
      got = true;
      headers.push(parsed.header);
      serve(socket, head.subarray(parsed.length));
    };
    socket.on('data', onHead);
    // a peer that says nothing and hangs up is dropped too (Postfix: "haproxy read: EOF")
    socket.once('end', () => got || dropped++);
  });
  return { ...server, lines, messages, headers, dropped: () => dropped };
}

/** A well-behaved script; `override` changes the answer to chosen commands. */
export function smtpScript(override: (verb: string, line: string) => string | undefined = () => undefined): Script {
  return (line) => {
    const verb = line.split(/[ :]/)[0].toUpperCase();
    const o = override(verb, line);
    if (o !== undefined) return o;
    switch (verb) {
      case 'EHLO':
        return '250-scripted.test\r\n250 PIPELINING';
      case 'HELO':
        return '250 scripted.test';
      case 'MAIL':
      case 'RCPT':
      case 'RSET':
        return '250 2.0.0 ok';
      case 'DATA':
        return '354 go ahead';
      case '.':
        return '250 2.0.0 queued';
      case 'QUIT':
        return 'close';
      default:
        return '250 ok';
    }
  };
}
