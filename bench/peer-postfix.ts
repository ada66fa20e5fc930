// Postfix's smtpd with smtpd_proxy_filter (a before-queue content filter): SMTP-aware
// C, answering 250 to the final dot only after the filter (here the sink) did. A
// private instance (test/helpers/postfix-server.ts: its own config, queue and data
// directories under a temp dir, a free loopback port, never port 25), as root.
import { canRunPostfix, PostfixUnavailable, startPostfix } from '../test/helpers/postfix-server.ts';
import { hasTool } from '../test/helpers/postfix-tools.ts';
import { listenerPids, masterOf, treeCpuMicros } from './proc.ts';
import { PeerMissing, type BenchPeer } from './peer.ts';

export async function startPostfixFilter(sinkAddress: string, sessions: number): Promise<BenchPeer> {
  if (!hasTool('postfix')) throw new PeerMissing('postfix is not installed (apt-get install -y postfix)');
  if (!canRunPostfix()) throw new PeerMissing('a private Postfix needs root and the postfix user');
  let postfix;
  try {
    postfix = await startPostfix(sinkAddress, {
      mainCf: [
        // mynetworks is the helper's 127.0.0.1/32, where smtp-source connects from (overriding
        // it would make every process Postfix starts log a warning about the override)
        'smtpd_relay_restrictions = permit_mynetworks, reject',
        'smtpd_client_restrictions =',
        // anvil's per-client limits would throttle a load that all comes from 127.0.0.1
        'smtpd_client_connection_rate_limit = 0',
        'smtpd_client_connection_count_limit = 0',
        'smtpd_client_message_rate_limit = 0',
        'smtpd_client_recipient_rate_limit = 0',
        // the smtpd line of master.cf has maxproc "-": this; one smtpd per session and room to spare
        `default_process_limit = ${Math.max(100, sessions * 2)}`,
      ],
      // plain smtpd_proxy_options (no speed_adjust): smtpd connects to the filter at MAIL FROM
      // and streams the message through as it comes
      smtpd: [`smtpd_proxy_filter=${sinkAddress}`],
    });
  } catch (err) {
    if (err instanceof PostfixUnavailable) throw new PeerMissing(err.message.split('\n')[0]);
    throw err;
  }
  const master = masterOf(listenerPids(postfix.port));
  if (master === undefined) {
    await postfix.stop();
    throw new Error(`no Postfix master holds 127.0.0.1:${postfix.port}`);
  }
  return {
    port: postfix.port,
    // master, the smtpd processes it forks (and those that exited past max_use), anvil, postlogd
    cpu: () => treeCpuMicros(master),
    stop: () => postfix.stop(),
  };
}
