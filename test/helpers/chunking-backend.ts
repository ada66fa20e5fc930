// A backend that offers CHUNKING (RFC 3030) and records each BDAT chunk as it came:
// for the relay's BDAT path, which smtp-server (the mock backends) does not speak.
import type net from 'node:net';
import { listenLoopback } from './loopback-server.ts';

export interface ChunkingBackend {
  port: number;
  address: string;
  /** every command line, BDAT ones included */
  lines: string[];
  /** each message as the chunks gave it, byte for byte */
  messages: Buffer[];
  /** the sizes of each message's chunks */
  chunkSizes: number[][];
  close(): Promise<void>;
}

export interface ChunkingOptions {
  /** the reply to the n-th chunk (0-based) of a message, `last` for the LAST one; null: 250 */
  chunkReply?: (n: number, last: boolean) => string | null;
}

export async function chunkingBackend(options: ChunkingOptions = {}): Promise<ChunkingBackend> {
  const lines: string[] = [];
  const messages: Buffer[] = [];
  const chunkSizes: number[][] = [];
  const server = await listenLoopback((socket: net.Socket) => {
    socket.write('220 chunking.test ESMTP\r\n');
    let buf = Buffer.alloc(0);
    /** the current chunk: bytes still to read (null: reading commands), and whether it is LAST */
    let want: number | null = null;
    let last = false;
    let body: Buffer[] = [];
    let sizes: number[] = [];
    let failed = false;
    const chunkDone = () => {
      const n = sizes.length - 1;
      const answer = options.chunkReply?.(n, last) ?? null;
      const reply = failed ? '503 5.5.1 an earlier chunk was refused' : (answer ?? (last ? '250 2.0.0 queued as BDAT1' : `250 2.0.0 ${sizes[n]} octets`));
      if (!reply.startsWith('2')) failed = true;
      if (last) {
        if (!failed) messages.push(Buffer.concat(body));
        chunkSizes.push(sizes);
        body = [];
        sizes = [];
        failed = false;
      }
      socket.write(reply + '\r\n');
    };
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (want !== null) {
          if (buf.length < want) return;
          body.push(buf.subarray(0, want));
          buf = buf.subarray(want);
          want = null;
          chunkDone();
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.subarray(0, nl).toString('latin1');
        buf = buf.subarray(nl + 2);
        lines.push(line);
        const bdat = /^BDAT (\d+)( LAST)?$/i.exec(line);
        if (bdat) {
          want = Number(bdat[1]);
          last = !!bdat[2];
          sizes.push(want);
          continue;
        }
        const verb = line.split(/[ :]/)[0].toUpperCase();
        if (verb === 'EHLO') socket.write('250-chunking.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 CHUNKING\r\n');
        else if (verb === 'QUIT') {
          socket.end('221 2.0.0 bye\r\n');
          return;
        } else if (verb === 'DATA') socket.write('354 go\r\n');
        else socket.write('250 2.0.0 ok\r\n');
      }
    });
  });
  return { ...server, lines, messages, chunkSizes };
}
