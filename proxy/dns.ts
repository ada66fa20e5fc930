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
    return this.bounded(lookup().catch(() => null), null);
  }

  /**
   * The A records of `name`: the addresses, `none` when the name does not exist or has
   * none (NXDOMAIN, NODATA), `failed` when the lookup failed or timed out.
   */
  async addresses(name: string): Promise<string[] | 'none' | 'failed'> {
    const lookup = this.resolver.resolve4(name).then(
      (a): string[] | 'none' => (a.length ? a : 'none'),
      (err: NodeJS.ErrnoException): 'none' | 'failed' => (err.code === 'ENOTFOUND' || err.code === 'ENODATA' ? 'none' : 'failed'),
    );
    return this.bounded(lookup, 'failed');
  }

  /** The TXT records of `name` (each joined from its strings); `none` or `failed` as for addresses(). */
  async texts(name: string): Promise<string[] | 'none' | 'failed'> {
    const lookup = this.resolver.resolveTxt(name).then(
      (r): string[] | 'none' => (r.length ? r.map((parts) => parts.join('')) : 'none'),
      (err: NodeJS.ErrnoException): 'none' | 'failed' => (err.code === 'ENOTFOUND' || err.code === 'ENODATA' ? 'none' : 'failed'),
    );
    return this.bounded(lookup, 'failed');
  }

  /** The resolver that mailauth (SPF, DKIM, DMARC) asks, with the same servers and timeout. */
  resolve = (name: string, rrtype: string): Promise<unknown> => {
    const r = this.resolver as unknown as Record<string, (n: string) => Promise<unknown>>;
    const method = { A: 'resolve4', AAAA: 'resolve6', TXT: 'resolveTxt', MX: 'resolveMx', PTR: 'resolvePtr', CNAME: 'resolveCname' }[rrtype];
    const lookup = method ? r[method].call(this.resolver, name) : this.resolver.resolve(name, rrtype);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(Object.assign(new Error(`DNS timeout for ${name}`), { code: 'ETIMEOUT' })), this.timeout)));
    return Promise.race([lookup, late]).finally(() => clearTimeout(timer));
  };

  private bounded<T>(lookup: Promise<T>, onTimeout: T): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(onTimeout), this.timeout)));
    return Promise.race([lookup, late]).finally(() => clearTimeout(timer));
  }
}
