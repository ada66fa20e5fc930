// HAProxy in `mode tcp`: a byte splice written in C, no SMTP. One process with one
// thread (nbthread 1), like attitude --workers 1. Debian: apt-get install -y haproxy.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, hasTool } from '../test/helpers/postfix-tools.ts';
import { PeerMissing, startPeer, type BenchPeer } from './peer.ts';

export async function startHaproxy(sinkPort: number): Promise<BenchPeer> {
  if (!hasTool('haproxy')) throw new PeerMissing('haproxy is not installed (apt-get install -y haproxy)');
  const dir = mkdtempSync(path.join(tmpdir(), 'attitude-haproxy-'));
  const port = await freePort();
  const cfg = path.join(dir, 'haproxy.cfg');
  writeFileSync(
    cfg,
    [
      'global',
      '  nbthread 1',
      '  maxconn 4000',
      'defaults',
      '  mode tcp',
      '  timeout connect 5s',
      '  timeout client 60s',
      '  timeout server 60s',
      'listen smtp',
      `  bind 127.0.0.1:${port}`,
      `  server sink 127.0.0.1:${sinkPort}`,
    ].join('\n') + '\n',
  );
  // -db: foreground, no daemon, no master process: the PID we hold is the one doing the work
  return startPeer({ name: 'haproxy', cmd: 'haproxy', args: ['-db', '-f', cfg], port, dir, waitMs: 10_000 });
}
