// The proxy config contract (DESIGN.md "Proxy config"). Every key has a default,
// so a file with only `backends.servers` works; unknown keys are errors, so a
// typo never silently turns a defense off.
import net from 'node:net';
import { z } from 'zod';
import { cidr, duration, hostPort, optionalBandwidth, optionalRate, size } from './fields.ts';

export const STRATEGIES = ['round-robin', 'weighted', 'least-connections', 'hash-sender', 'hash-client'] as const;

const serverSchema = z.strictObject({
  name: z.string().min(1).regex(/^[A-Za-z0-9_.-]+$/, 'expected a name of letters, digits, _ . -'),
  // Optional: in `attitude run` a server without an address is bound to the mock backend of the same name.
  address: hostPort().optional(),
  weight: z.number().int().min(0).default(1),
  maxConnections: z.number().int().min(1).default(50),
  xclient: z.boolean().default(false),
  proxyProtocol: z.enum(['off', 'v1', 'v2']).default('off'),
});

// A DNS list zone and what a listing weighs (negative for an allow list); with `answers`
// only those A records count as listed (zones say different things with 127.0.0.x).
const listZoneSchema = z.strictObject({
  zone: z.string().min(1).regex(/^[A-Za-z0-9.-]+$/, 'expected a DNS zone like zen.spamhaus.org'),
  weight: z.number().default(1),
  answers: z.array(z.string().refine((v) => net.isIPv4(v), 'expected an IPv4 address like 127.0.0.2')).optional(),
});

const healthCheckSchema = z.strictObject({
  enabled: z.boolean().default(true),
  interval: duration().default(5000),
  timeout: duration().default(2000),
  rise: z.number().int().min(1).default(2),
  fall: z.number().int().min(1).default(3),
});

const backendsSchema = z.strictObject({
  strategy: z.enum(STRATEGIES).default('round-robin'),
  healthCheck: healthCheckSchema.prefault({}),
  connectTimeout: duration().default(5000),
  // How long a reply to one command may take; the final dot gets `dataTimeout` (RFC 5321 4.5.3.2 allows 10m).
  commandTimeout: duration().default(30_000),
  dataTimeout: duration().default(120_000),
  // A pooled backend connection unused this long is closed with QUIT.
  idleTimeout: duration().default(30_000),
  // How long a transaction waits for a free backend connection when every pool is at maxConnections.
  queueTimeout: duration().default(10_000),
  // EHLO name the proxy uses towards backends (default: `hostname`).
  helo: z.string().optional(),
  // BDAT (RFC 3030) instead of DATA to a backend that offers CHUNKING: no round trip
  // for DATA's 354, the message sent as it is (no dot-stuffing), and no end-of-data
  // line at all for the backend to misread (SMTP smuggling)
  chunking: z.boolean().default(true),
  servers: z.array(serverSchema).default([]),
});

const spamRuleSchema = z.strictObject({
  name: z.string().min(1),
  header: z.string().optional(),
  body: z.string().optional(),
  test: z.enum(['missing-date', 'missing-message-id', 'recipients', 'urls']).optional(),
  over: z.number().optional(),
  score: z.number(),
});

export const proxyConfigSchema = z.strictObject({
  listen: hostPort().default({ host: '127.0.0.1', port: 2525 }),
  hostname: z.string().min(1).default('mx.attitude.test'),
  admin: z.union([z.null(), z.literal('off'), hostPort()]).default(null).transform((v) => (v === 'off' ? null : v)),
  tls: z
    .strictObject({ key: z.string(), cert: z.string() })
    .nullable()
    .default(null),
  relay: z
    .strictObject({
      domains: z.array(z.string().min(1)).default([]),
      // nobody by default: behind a local load balancer or a container port mapping every client looks local
      clients: z.array(cidr()).default([]),
      auth: z
        .strictObject({
          users: z.record(z.string(), z.string()).default({}),
          allowPlaintext: z.boolean().default(false),
        })
        .nullable()
        .default(null),
    })
    .prefault({}),
  connections: z
    .strictObject({
      max: z.number().int().min(1).default(1000),
      perClient: z.number().int().min(1).default(10),
      rate: optionalRate().default({ count: 60, perMs: 60_000 }),
      // botnets come in blocks: concurrent connections and new connections per network
      perNetwork: z.number().int().min(1).default(50),
      networkRate: optionalRate().default({ count: 300, perMs: 60_000 }),
      networkPrefix: z
        .strictObject({ v4: z.number().int().min(8).max(32).default(24), v6: z.number().int().min(16).max(128).default(48) })
        .prefault({}),
      // a whole command line (the first one after the banner too) must arrive within this,
      // however slowly its bytes come: an idle timeout that each dripped byte resets is no limit
      commandDeadline: duration().default(60_000),
      // Postfix's stress mode: past `threshold` x max connections the timeouts shrink and,
      // at the cap, the idlest session is shed so a new client gets in; it ends below `release`
      stress: z
        .strictObject({
          enabled: z.boolean().default(true),
          threshold: z.number().min(0.05).max(1).default(0.7),
          release: z.number().min(0).max(1).default(0.6),
          idleTimeout: duration().default(10_000),
          commandDeadline: duration().default(10_000),
        })
        .prefault({}),
      // postscreen's cache of good clients: addresses that delivered mail within `remember`
      // may use the last `share` of max, which strangers cannot take
      reserve: z
        .strictObject({
          share: z.number().min(0).max(0.9).default(0.1),
          remember: duration().default(86_400_000),
          size: z.number().int().min(0).default(10_000),
        })
        .prefault({}),
      greetPause: duration().default(0),
      idleTimeout: duration().default(300_000),
      allow: z.array(cidr()).default([]),
      deny: z.array(cidr()).default([]),
      errorSoftLimit: z.number().int().min(1).default(3),
      errorHardLimit: z.number().int().min(1).default(10),
      errorDelay: duration().default(1000),
      // peers (a load balancer in front) that send a PROXY protocol v1/v2 header with the real client address
      proxyProtocolFrom: z.array(cidr()).default([]),
      // look up the client's verified host name (forward-confirmed reverse DNS, as Postfix's
      // smtpd does) for XCLIENT NAME=; off by default: a lookup per connection needs a resolver
      reverseLookup: z.boolean().default(false),
    })
    .prefault({}),
  // postscreen's weighted DNSBL/DNSWL score, looked up at connect (DESIGN.md "Reputation")
  reputation: z
    .strictObject({
      dnsbl: z.array(listZoneSchema).default([]),
      dnswl: z.array(listZoneSchema).default([]),
      threshold: z.number().default(3),
      action: z.enum(['refuse', 'tag']).default('refuse'),
      cache: duration().default(3_600_000),
    })
    .prefault({}),
  // Postgrey's triplet greylisting at RCPT: real MTAs retry a 4xx, most spam bots do not
  greylist: z
    .strictObject({
      enabled: z.boolean().default(false),
      // a new (client network, sender, recipient) triplet is told 450 until this has passed
      delay: duration().default(300_000),
      // a triplet (and a client's passes) not seen for this long is forgotten
      expire: duration().default(35 * 86_400_000),
      key: z.enum(['network', 'address']).default('network'),
      // a client network (or address) that passed this many times skips greylisting (0: never)
      autoAllow: z.number().int().min(0).default(5),
    })
    .prefault({}),
  // sender authentication with mailauth (SPF at MAIL FROM, DKIM and DMARC after the dot)
  senders: z
    .strictObject({
      spf: z.enum(['off', 'tag', 'reject']).default('off'),
      dmarc: z.enum(['off', 'tag', 'enforce']).default('off'),
    })
    .prefault({}),
  // the resolver the proxy's own lookups use (DESIGN.md "Reputation, greylisting, sender authentication")
  dns: z
    .strictObject({
      // HOST:PORT of DNS servers; none: the system resolver
      servers: z.array(hostPort()).default([]),
      timeout: duration().default(2000),
    })
    .prefault({}),
  messages: z
    .strictObject({
      maxSize: size().default(10 * 1024 * 1024),
      maxRecipients: z.number().int().min(1).default(100),
      rate: optionalRate().default({ count: 100, perMs: 60_000 }),
      recipientRate: optionalRate().default({ count: 1000, perMs: 60_000 }),
      senderRate: optionalRate().default({ count: 100, perMs: 60_000 }),
      // the heads of messages held back (256 KB each at most) so that whole-message
      // headers (spam score, Authentication-Results) can go on top, for all transactions
      // of a process at once; past it a message streams on without those headers
      holdBackTotal: size().default(64 * 1024 * 1024),
    })
    .prefault({}),
  throttle: z
    .strictObject({
      perClient: optionalBandwidth().default(256 * 1024),
      global: optionalBandwidth().default(50 * 1024 * 1024),
    })
    .prefault({}),
  filters: z
    .strictObject({
      strictLineEndings: z.boolean().default(true),
      blockedExtensions: z.array(z.string().min(1)).default(['exe', 'scr', 'pif', 'bat', 'com', 'vbs', 'js', 'jar', 'cmd']),
      eicar: z.boolean().default(true),
      // ZIP attachments (by type or name) looked into for blocked names and EICAR
      archives: z
        .strictObject({
          enabled: z.boolean().default(true),
          // archive levels looked into: 1 = the attachment only, 2 = a zip in it too
          maxDepth: z.number().int().min(1).max(8).default(2),
          // entries in all archives of one message
          maxEntries: z.number().int().min(1).default(1000),
          // archive bytes held and inflated for one message (the attachment decoded counts too)
          maxBytes: size().default(50 * 1024 * 1024),
          // an archive not readable within these bounds (or damaged, or encrypted inside): refused, or passed with X-Attitude-Archive
          unreadable: z.enum(['refuse', 'tag']).default('refuse'),
        })
        .prefault({}),
      spam: z
        .strictObject({
          rejectScore: z.number().default(5),
          rules: z.array(spamRuleSchema).default([]),
        })
        .prefault({}),
    })
    .prefault({}),
  backends: backendsSchema.prefault({}),
  store: z
    .string()
    .regex(/^(memory|redis:\/\/.+)$/, 'expected "memory" or a redis://HOST:PORT/DB URL')
    .default('memory'),
  // Extensions of the DESIGN.md contract:
  // what the limits do while a Redis store is unreachable: count locally (open) or refuse with 421 (closed)
  storeFailMode: z.enum(['open', 'closed']).default('open'),
  // long enough for a message of messages.maxSize at throttle.perClient (10 MB at 256 KB/s: 40 s)
  shutdownTimeout: duration().default(60_000),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      // the recipients on each transaction line: as they are, as SHA-256 pseudonyms, or not at all
      recipients: z.enum(['full', 'hash', 'none']).default('full'),
    })
    .prefault({}),
});

export type ProxyConfig = z.output<typeof proxyConfigSchema>;
export type BackendServerConfig = ProxyConfig['backends']['servers'][number];
export type Strategy = (typeof STRATEGIES)[number];
