// A backend with faults on demand, Toxiproxy-style, for the fault suite: per message
// it answers the final dot, answers it late, answers 451, drops the connection after
// the dot without a word, or resets in the middle of DATA; it can be killed outright.
// It records what it stored and what it answered, the ground truth a ledger needs to
// tell a lost message from an RFC 1047 duplicate (stored, never answered).
import { listenLoopback } from './loopback-server.ts';
import { crlfLines } from './scripted-backend.ts';

export type Fault = 'ok' | 'late' | 'tempfail' | 'drop-after-dot' | 'reset-mid-data';

export interface Stored {
  id: string;
  /** what the sender was answered (null: nothing, the connection went first) */
  answered: number | null;
}

export interface FaultBackend {
  name: string;
  address: string;
  /** messages whose final dot arrived and which this server keeps */
  stored: Stored[];
  /** drops every connection and stops listening: the server is gone */
  kill(): void;
  close(): Promise<void>;
}

export interface FaultOptions {
  /** the fault for the n-th message (0-based, counted at DATA) */
  fault: (n: number) => Fault;
  /** how late a 'late' answer comes */
  lateMs?: number;
}

export async function faultBackend(name: string, o: FaultOptions): Promise<FaultBackend> {
  const stored: Stored[] = [];
  let messages = 0;
  const server = await listenLoopback((socket) => {
    socket.setNoDelay(true);
    socket.write(`220 ${name}.fault.test ESMTP\r\n`);
    let body: string[] | null = null;
    let fault: Fault = 'ok';
    socket.on(
      'data',
      crlfLines((line) => {
        if (body) {
          if (line !== '.') {
            body.push(line);
            if (fault === 'reset-mid-data' && body.length === 3) {
              socket.resetAndDestroy();
              return false;
            }
            return;
          }
          const id = /^X-Attitude-Id:\s*(\S+)/im.exec(body.join('\n'))?.[1] ?? '?';
          body = null;
          if (fault === 'tempfail') return void socket.write('451 4.3.0 queue file write error\r\n');
          const entry: Stored = { id, answered: null };
          stored.push(entry);
          if (fault === 'drop-after-dot') {
            socket.destroy();
            return false;
          }
          const answer = () => {
            if (socket.destroyed) return;
            entry.answered = 250;
            socket.write(`250 2.0.0 Ok: queued as ${name}-${stored.length}\r\n`);
          };
          if (fault === 'late') setTimeout(answer, o.lateMs ?? 1000);
          else answer();
          return;
        }
        const verb = line.split(/[ :]/)[0].toUpperCase();
        if (verb === 'EHLO') socket.write(`250-${name}.fault.test\r\n250 PIPELINING\r\n`);
        else if (verb === 'DATA') {
          fault = o.fault(messages++);
          body = [];
          socket.write('354 go ahead\r\n');
        } else if (verb === 'QUIT') {
          socket.write('221 bye\r\n');
          socket.end();
        } else socket.write('250 2.0.0 Ok\r\n');
      }),
    );
  });
  return {
    name,
    address: server.address,
    stored,
    kill() {
      void server.close();
    },
    close: server.close,
  };
}

/**
 * The ledger over what the senders were told and what the backends keep: a message
 * told 250 and kept nowhere is lost; a message kept twice is a duplicate, forgivable
 * only where a backend kept a copy it never answered (RFC 1047).
 */
export function ledger(told250: Iterable<string>, kept: Stored[]): { lost: string[]; duplicates: string[]; rfc1047: string[] } {
  const byId = new Map<string, Stored[]>();
  for (const s of kept) byId.set(s.id, [...(byId.get(s.id) ?? []), s]);
  const lost = [...told250].filter((id) => !byId.has(id));
  const duplicates: string[] = [];
  const rfc1047: string[] = [];
  for (const [id, copies] of byId) {
    if (copies.length < 2) continue;
    if (copies.filter((c) => c.answered === 250).length <= 1) rfc1047.push(id);
    else duplicates.push(id);
  }
  return { lost, duplicates, rfc1047 };
}
