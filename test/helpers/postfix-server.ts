// A private Postfix (master, smtpd, qmgr, smtp) in a folder of its own, listening on a
// free loopback port and relaying everything to `relayhost`: a real MTA behind the
// proxy that honours XCLIENT like a production Postfix does. Needs root (Postfix's
// daemons drop to the postfix user) and Debian's postfix package.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, waitListening } from './postfix-tools.ts';

export interface PostfixServer {
  port: number;
  address: string;
  /** what Postfix logged (maillog_file) */
  log(): string;
  stop(): Promise<void>;
}

const MASTER_CF = `
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`;

/** This machine's Postfix would not start: an environment problem, reported and skipped. */
export class PostfixUnavailable extends Error {}

export function canRunPostfix(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v postfix && id postfix'], { stdio: 'ignore' });
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
}

/**
 * A private Postfix, or the test skipped (with Postfix's own log) when this machine's
 * Postfix cannot start: an environment problem, not a failure of the proxy.
 */
export async function postfixOrSkip(ctx: { skip(note?: string): never }, relayhost: string, options: PostfixOptions = {}): Promise<PostfixServer> {
  try {
    return await startPostfix(relayhost, options);
  } catch (err) {
    if (!(err instanceof PostfixUnavailable)) throw err;
    console.warn(err.message);
    return ctx.skip();
  }
}

export interface PostfixOptions {
  relayDomains?: string;
  /** more main.cf lines (they win over the defaults above them) */
  mainCf?: string[];
  /** `-o name=value` overrides for the smtpd in master.cf */
  smtpd?: string[];
  /** a master.cf of its own (a postscreen in front of smtpd), given the port to listen on */
  masterCf?: (port: number) => string;
  /** more files for the config folder (lookup tables main.cf names with $config_directory) */
  files?: Record<string, string>;
}

export async function startPostfix(relayhost: string, options: PostfixOptions = {}): Promise<PostfixServer> {
  const relayDomains = options.relayDomains ?? 'example.test';
  const dir = mkdtempSync(path.join(tmpdir(), 'attitude-postfix-'));
  chmodSync(dir, 0o755); // the postfix user must reach its queue and data
  const conf = path.join(dir, 'conf');
  const data = path.join(dir, 'data');
  for (const d of [conf, path.join(dir, 'queue'), data]) mkdirSync(d, { recursive: true });
  chownSync(data, Number(execFileSync('id', ['-u', 'postfix']).toString().trim()), 0);
  const port = await freePort();
  const logFile = path.join(dir, 'maillog');
  writeFileSync(
    path.join(conf, 'main.cf'),
    [
      'compatibility_level = 3.6',
      `queue_directory = ${dir}/queue`,
      `data_directory = ${data}`,
      'mail_owner = postfix',
      'setgid_group = postdrop',
      'myhostname = postfix.attitude.test',
      'mydestination =',
      'inet_interfaces = 127.0.0.1',
      'inet_protocols = ipv4',
      'mynetworks = 127.0.0.1/32',
      `relay_domains = ${relayDomains}`,
      `relayhost = [${relayhost.split(':')[0]}]:${relayhost.split(':')[1]}`,
      // the proxy may tell who the client really is
      'smtpd_authorized_xclient_hosts = 127.0.0.1',
      `maillog_file = ${logFile}`,
      `maillog_file_prefixes = ${dir}`,
      'smtp_host_lookup = native',
      'smtpd_peername_lookup = no',
      'alias_maps =',
      'local_recipient_maps =',
      'smtp_tls_security_level = none',
      'smtpd_tls_security_level = none',
      'shlib_directory = /usr/lib/postfix',
      'daemon_directory = /usr/lib/postfix/sbin',
      'command_directory = /usr/sbin',
      'meta_directory = /etc/postfix',
      ...(options.mainCf ?? []),
    ].join('\n') + '\n',
  );
  for (const [name, text] of Object.entries(options.files ?? {})) writeFileSync(path.join(conf, name), text);
  const overrides = (options.smtpd ?? []).map((o) => `\n  -o ${o}`).join('');
  writeFileSync(path.join(conf, 'master.cf'), options.masterCf ? options.masterCf(port) : `127.0.0.1:${port} inet n - n - - smtpd${overrides}\n${MASTER_CF}`);
  // start-fg keeps the master in the foreground: it is our child, and stops with it
  const child: ChildProcess = spawn('postfix', ['-c', conf, 'start-fg'], { stdio: 'ignore', detached: true });
  try {
    await waitListening(port, 10_000);
  } catch {
    if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGKILL');
    let log = '';
    try {
      log = readFileSync(logFile, 'utf8');
    } catch {
      // nothing logged
    }
    rmSync(dir, { recursive: true, force: true });
    throw new PostfixUnavailable(`Postfix did not start on 127.0.0.1:${port}${log ? `:\n${log}` : ''}`);
  }
  return {
    port,
    address: `127.0.0.1:${port}`,
    log: () => {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    },
    stop: async () => {
      try {
        execFileSync('postfix', ['-c', conf, 'stop'], { stdio: 'ignore', timeout: 10_000 });
      } catch {
        // already stopped
      }
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        const timer = setTimeout(() => child.pid && process.kill(-child.pid, 'SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
