// The proxy's own DNS lookups, through `dns.servers` (the system resolver when none
// are set) and bounded by `dns.timeout`: a lookup that fails or takes too long is an
// answer of "nothing known", never a reason to hold mail up.
import { Resolver } from 'node:dns/promises';
import net from 'node:net';
import type { ProxyConfig } from './config/schema.ts';

export class Dns {
  private resolver: Resolver;
  private timeout: number;

  constructor(config: ProxyConfig) {
    ({ resolver: this.resolver, timeout: this.timeout } = Dns.resolverOf(config));
  }

  private static resolverOf(config: ProxyConfig): { resolver: Resolver; timeout: number } {
    const timeout = config.dns.timeout;
    const resolver = new Resolver({ timeout, tries: 1 });
    if (config.dns.servers.length) resolver.setServers(config.dns.servers.map((s) => (net.isIPv6(s.host) ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`)));
    return { resolver, timeout };
  }

  reload(config: ProxyConfig): void {
    ({ resolver: this.resolver, timeout: this.timeout } = Dns.resolverOf(config));
  }

  /**
   * The client's verified name (Postfix's smtpd: the reverse name whose forward lookup
   * gives the address back), or null: no PTR, no match, a failure or the timeout.
   */
  async verifiedName(ip: string): Promise<string | null> {
    const lookup = async () => {
      const names = await this.resolver.reverse(ip);
      for (const name of names.slice(0, 5)) {
        const addresses = net.isIPv6(ip) ? await this.resolver.resolve6(name) : await this.resolver.resolve4(name);
        if (addresses.includes(ip)) return name.replace(/\.$/, '');
      }
      return null;
    };
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), this.timeout)));
    try {
      return await Promise.race([lookup().catch(() => null), late]);
    } finally {
      clearTimeout(timer);
    }
  }
}
