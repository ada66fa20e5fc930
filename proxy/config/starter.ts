// The starter proxy.yaml of `attitude init`: the common setup, an MX in front of
// Postfix moved to a loopback port, with the master.cf lines that go with it. Every
// value is one `attitude validate` accepts; the placeholders to change say CHANGE.

export interface StarterOptions {
  /** tell Postfix the client's address with a PROXY protocol v1 header instead of XCLIENT */
  proxyProtocol: boolean;
  /** mail servers behind the proxy: the local Postfix, then others to fill in */
  backends: number;
  /** for the yaml-language-server line: where the editor finds schemas/proxy.json */
  schemaPath: string;
}

export const MAX_STARTER_BACKENDS = 8;

const LOCAL = '127.0.0.1:10025';
/** Documentation addresses (RFC 5737): plainly not anyone's real mail server. */
const otherAddress = (i: number) => `192.0.2.${10 + i}:10025`;

/** A YAML line with its comment in the comment column. */
const line = (yaml: string, comment?: string) => (comment ? `${yaml.padEnd(31)} # ${comment}` : yaml);

function masterCf(o: StarterOptions): string[] {
  const trust = (peer: string) => (o.proxyProtocol ? '-o smtpd_upstream_proxy_protocol=haproxy' : `-o smtpd_authorized_xclient_hosts=${peer}`);
  const lines = [
    'Postfix, /etc/postfix/master.cf: the proxy takes port 25, so the line that listens',
    'there goes (comment it out):',
    '',
    '  smtp      inet  n       -       y       -       -       smtpd',
    '',
    "or, with postscreen, these three (postscreen's work is the proxy's now):",
    '',
    '  smtp      inet  n       -       y       -       1       postscreen',
    '  smtpd     pass  -       -       y       -       -       smtpd',
    '  dnsblog   unix  -       -       y       -       0       dnsblog',
    '',
    "and a loopback smtpd takes its place as the proxy's backend. It "
      + (o.proxyProtocol ? 'reads the PROXY' : "trusts the proxy's"),
    o.proxyProtocol
      ? 'header that starts every connection of the proxy (its health checks too), so'
      : 'XCLIENT, so Postfix logs, checks and rate-limits the real client address, not',
    o.proxyProtocol ? "Postfix logs, checks and rate-limits the real client address, not the proxy's:" : "the proxy's:",
    '',
    `  ${LOCAL} inet n - y - - smtpd`,
    `    ${trust('127.0.0.1')}`,
    '',
    'Keep the submission (587) and smtps (465) lines as they are: the proxy is for the',
    'MX side. Then `postfix reload`.',
  ];
  if (o.backends > 1) {
    lines.push(
      '',
      'Each other mail server gets the same smtpd on an address the proxy reaches,',
      ...(o.proxyProtocol
        ? ['with its firewall open to the proxy only (a PROXY header is trusted from anyone):']
        : ["trusting the proxy's own address (PROXY_ADDRESS) instead of 127.0.0.1:"]),
      '',
      `  ${otherAddress(2)} inet n - y - - smtpd`,
      `    ${trust('PROXY_ADDRESS')}`,
    );
  }
  return lines;
}

function server(name: string, address: string, o: StarterOptions, change: string | null): string[] {
  return [
    `    - name: ${name}`,
    line(`      address: ${address}`, change ? `CHANGE: ${change}` : 'the loopback smtpd of master.cf'),
    o.proxyProtocol
      ? line('      proxyProtocol: v1', 'Postfix reads the client address from a PROXY header')
      : line('      xclient: true', 'Postfix gets the client address by XCLIENT'),
    line('      maxConnections: 50', "keep it under Postfix's smtpd process limit"),
  ];
}

export function starterConfig(o: StarterOptions): string {
  const servers = [server('postfix', LOCAL, o, null)];
  for (let i = 2; i <= o.backends; i++) servers.push(server(`mx${i}`, otherAddress(i), o, `the address of mail server ${i}`));
  const lines = [
    `# yaml-language-server: $schema=${o.schemaPath}`,
    '# attitude proxy config, written by `attitude init`: an MX in front of Postfix.',
    '# Check it with `attitude validate FILE`, run it with `attitude proxy --config FILE`.',
    '# A key left out has its default: the schema above lists them all, and an editor',
    '# with a YAML language server completes and checks the keys.',
    '#',
    ...masterCf(o).map((l) => (l ? `# ${l}` : '#')),
    '',
    line('listen: 0.0.0.0:25', 'port 25: root or CAP_NET_BIND_SERVICE (contrib/attitude.service)'),
    line('hostname: mx.example.org', 'CHANGE: the name of this MX, in the banner'),
    line('admin: 127.0.0.1:9025', 'GET /metrics, /healthz, /state: keep it on loopback'),
    '',
    'relay:',
    line('  domains: [example.org]', 'CHANGE: the domains this MX receives mail for'),
    line('  clients: []', 'nobody relays elsewhere through an MX (behind a load'),
    line('', 'balancer or a port mapping every client looks local)'),
    '',
    'connections:',
    line('  max: 1000', 'connections in all (needs as many file descriptors)'),
    line('  perClient: 10', 'concurrent connections per client address'),
    line('  rate: 60/1m', 'new connections per client address'),
    line('  greetPause: 0s', "e.g. 3s: refuse clients that talk before the banner"),
    '',
    'messages:',
    line('  maxSize: 10MB', "at most Postfix's message_size_limit"),
    line('  maxRecipients: 100'),
    line('  rate: 100/1m', 'messages per client address'),
    '',
    'throttle:',
    line('  perClient: 256KB/s', 'inbound bytes per client address'),
    '',
    'backends:',
    ...(o.backends > 1 ? [line('  strategy: least-connections', 'or round-robin, weighted, hash-sender, hash-client')] : []),
    '  healthCheck: { interval: 5s, timeout: 2s, rise: 2, fall: 3 }',
    '  servers:',
    ...servers.flat(),
    '',
    '# SIGHUP reloads this file (a bad one is refused and the running config stays);',
    '# listen, admin and store need a restart.',
  ];
  return lines.join('\n') + '\n';
}
