// Haraka with queue/smtp_forward: an SMTP-aware relay in Node, like attitude, that
// answers the final dot with the forward server's reply. Installed with npm into a
// bench cache folder (not a dependency of this package), one process (nodes=0), in
// the foreground, listening on a free loopback port.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../test/helpers/postfix-tools.ts';
import { PeerMissing, startPeer, type BenchPeer } from './peer.ts';

/** Pinned, so two runs of the bench compare the same Haraka. */
export const HARAKA_VERSION = '3.3.4';

export function harakaHome(): string {
  return path.join(process.env.BENCH_CACHE ?? path.join(homedir(), '.cache', 'attitude-bench'), 'haraka');
}

/** Haraka's command, installed into the cache on first use (npm install --prefix); BENCH_NO_INSTALL=1 skips instead. */
export function harakaBin(log: (line: string) => void = () => {}): string {
  const home = harakaHome();
  const bin = path.join(home, 'node_modules', 'Haraka', 'bin', 'haraka');
  if (existsSync(bin)) return bin;
  const how = `npm install --prefix ${home} Haraka@${HARAKA_VERSION}`;
  if (process.env.BENCH_NO_INSTALL) throw new PeerMissing(`Haraka is not installed (${how})`);
  log(`  installing Haraka ${HARAKA_VERSION} into ${home} (once)`);
  mkdirSync(home, { recursive: true });
  try {
    // its optional native module (modern-syslog) is not built: Haraka logs to stdout here
    execFileSync('npm', ['install', '--prefix', home, '--no-audit', '--no-fund', '--ignore-scripts', `Haraka@${HARAKA_VERSION}`], { stdio: 'ignore', timeout: 300_000 });
  } catch (err) {
    throw new PeerMissing(`Haraka could not be installed (${how}): ${(err as Error).message.split('\n')[0]}`);
  }
  if (!existsSync(bin)) throw new PeerMissing(`Haraka's command is missing after ${how}`);
  return bin;
}

// Haraka's core asks the resolver for every client's name (dns.reverse) unless a
// lookup_rdns hook answers first: the loopback needs no lookup, and this machine no network
const LOCAL_PLUGIN = `
exports.hook_lookup_rdns = function (next) {
  next(OK, 'localhost')
}
`;

// Haraka never sets TCP_NODELAY, on the client's socket nor on the forward connection,
// and its socket wrapper (tls_socket's pluggableStream) makes setNoDelay a no-op: so
// the net.Socket underneath is reached for
const NODELAY_PLUGIN = `
const { smtp_client } = require('./smtp_client')
const noDelay = (s) => (s.targetsocket || s).setNoDelay(true)
exports.register = function () {
  const get_socket = smtp_client.prototype.get_socket
  smtp_client.prototype.get_socket = function (opts) {
    const socket = get_socket.call(this, opts)
    noDelay(socket)
    return socket
  }
}
exports.hook_connect_init = function (next, connection) {
  noDelay(connection.client)
  next()
}
`;

export interface HarakaOptions {
  /** TCP_NODELAY on both of Haraka's sockets (a plugin of ours); Haraka as shipped leaves Nagle on */
  noDelay: boolean;
}

export async function startHaraka(sinkPort: number, options: HarakaOptions, log?: (line: string) => void): Promise<BenchPeer> {
  const bin = harakaBin(log);
  const dir = mkdtempSync(path.join(tmpdir(), 'attitude-haraka-'));
  const port = await freePort();
  execFileSync(process.execPath, [bin, '-i', dir], { stdio: 'ignore' });
  const conf = (name: string, lines: string[]) => writeFileSync(path.join(dir, 'config', name), lines.join('\n') + '\n');
  // nodes=0: no cluster, the process we start is the one that relays
  conf('smtp.ini', ['[main]', `listen=127.0.0.1:${port}`, 'nodes=0', 'inactivity_timeout=60']);
  // notice: a line or two per message and per connection, about what attitude logs at info
  conf('log.ini', ['[main]', 'level=notice', 'timestamps=false', 'format=default']);
  conf('plugins', ['bench_local', ...(options.noDelay ? ['bench_nodelay'] : []), 'rcpt_to.in_host_list', 'queue/smtp_forward']);
  conf('host_list', ['example.test']);
  conf('smtp_forward.ini', ['host=127.0.0.1', `port=${sinkPort}`, 'enable_tls=false']);
  writeFileSync(path.join(dir, 'plugins', 'bench_local.js'), LOCAL_PLUGIN);
  writeFileSync(path.join(dir, 'plugins', 'bench_nodelay.js'), NODELAY_PLUGIN);
  return startPeer({ name: 'Haraka', cmd: process.execPath, args: [bin, '-c', dir], port, dir, waitMs: 20_000 });
}
