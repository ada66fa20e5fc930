// The scenario contract (DESIGN.md "Scenario"): mock backends, actors, thresholds.
// Zod checks single values; parse.ts adds the checks across keys and the
// per-kind actor schemas, collecting every problem before anything runs.
import { z } from 'zod';
import { duration, hostPort, rate } from '../../proxy/config/fields.ts';
import { countRange, durationRange, sizeRange, fixed } from './ranges.ts';

export const ACTOR_KINDS = ['legit', 'spammer', 'worm', 'spoofer', 'flood', 'slowloris', 'early-talker', 'relay-prober', 'smuggler'] as const;
export type ActorKind = (typeof ACTOR_KINDS)[number];

export const SMUGGLING_VARIANTS = [
  'lf-dot-lf', // \n.\n
  'lf-dot-crlf', // \n.\r\n
  'cr-dot-crlf', // \r.\r\n
  'crlf-dot-cr', // \r\n.\r
  'cr-dot-cr', // \r.\r
  'cr-dot-lf', // \r.\n
  'lf-dot-cr', // \n.\r
  'crlf-nul-dot-crlf', // \r\n\0.\r\n
  'crlf-dot-nul-crlf', // \r\n.\0\r\n
] as const;
export type SmugglingVariant = (typeof SMUGGLING_VARIANTS)[number];

export const RELAY_TRICKS = [
  'null-sender',
  'outside-sender',
  'served-sender',
  'ip-literal-sender',
  'percent-hack-ip',
  'percent-hack',
  'quoted',
  'quoted-percent',
  'double-at-ip',
  'quoted-at-ip',
  'double-at',
  'source-route-ip',
  'source-route',
  'bang-path',
  'bang-path-ip',
  'bang-path-served',
] as const;
export type RelayTrick = (typeof RELAY_TRICKS)[number];

const name = () => z.string().min(1).regex(/^[A-Za-z0-9_.-]+$/, 'expected a name of letters, digits, _ . -');
const share = () => z.number().min(0).max(1);
const loopbackAddress = () => z.string().regex(/^127(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/, 'expected an IPv4 address in 127.0.0.0/8 like 127.20.1.7');

export const arrivalSchema = z.union([
  z.enum(['poisson', 'constant']),
  z.strictObject({
    type: z.enum(['poisson', 'constant', 'ramp', 'bursts', 'histogram']),
    rate: rate().optional(),
    // ramp (k6 ramping-arrival-rate): the rate moves linearly to each stage's target
    from: rate().optional(),
    stages: z.array(z.strictObject({ duration: duration(), target: rate() })).min(1).optional(),
    // bursts: `size` arrivals every `every`, spread over `spread`
    every: duration().optional(),
    size: z.number().int().min(1).optional(),
    spread: duration().optional(),
    // histogram (a timeline kept in shape, e.g. an imported log's): `counts[i]` arrivals
    // in the i-th `bucket` from the actor's start, each at a seeded random time within it
    bucket: duration().optional(),
    counts: z.array(z.number().int().min(0)).min(1).optional(),
  }),
]);
export type ArrivalSpec = z.output<typeof arrivalSchema>;

const common = {
  name: name(),
  description: z.string().optional(),
  clients: z.number().int().min(1).max(62_500).default(1),
  /** the /24 networks the clients are spread over (a botnet in many blocks); default: 250 clients per /24 */
  networks: z.number().int().min(1).max(250).optional(),
  /**
   * the clients' own addresses in 127.0.0.0/8 instead of 127.<10+actor>.x.y (an imported
   * log's, mapped per /24 so per-network limits see the same networks); `clients` is their count
   */
  addresses: z.array(loopbackAddress()).min(1).max(62_500).optional(),
  /**
   * how many of the actor's arrivals each client makes, in the order of its clients (an
   * imported log's per-address counts, exact when they add up to the arrivals); default
   * each arrival picks a client at random
   */
  shares: z.array(z.number().int().min(0)).min(1).max(62_500).optional(),
  /** when the actor starts and stops, as offsets into the run */
  start: duration().default(0),
  stop: duration().optional(),
};

const arrivals = {
  rate: rate().optional(),
  arrival: arrivalSchema.optional(),
};

const retrySchema = z.strictObject({
  after: duration().default(1000),
  max: z.number().int().min(0).max(100).default(5),
  backoff: z.number().min(1).max(10).default(2),
  maxDelay: duration().default(10_000),
});
export type RetrySpec = z.output<typeof retrySchema>;

const mailer = (d: { recipients: [number, number]; size: [number, number]; connections: number; reuse: number; retry: boolean; pipelining: boolean }) => ({
  ...common,
  ...arrivals,
  recipients: countRange().default({ min: d.recipients[0], max: d.recipients[1], dist: 'uniform' }),
  size: sizeRange().default({ min: d.size[0], max: d.size[1], dist: 'uniform' }),
  /** recipient domains (the proxy's served domains) */
  domains: z.array(z.string().min(1)).min(1).default(['example.test']),
  senderDomain: z.string().min(1).optional(),
  /** concurrent connections per client address */
  connections: z.number().int().min(1).max(1000).default(d.connections),
  /** messages per connection before it is closed */
  reuse: z.number().int().min(1).max(10_000).default(d.reuse),
  /** how long an idle connection is kept for the next message */
  keepAlive: duration().default(2000),
  /** MAIL, RCPT and DATA in one write when the server offers PIPELINING, as a real MTA does */
  pipelining: z.boolean().default(d.pipelining),
  retry: d.retry ? retrySchema.prefault({}) : retrySchema.nullable().default(null),
  attachments: z.array(z.string().min(1)).default([]),
  attachmentSize: sizeRange().default(fixed(8 * 1024)),
  /** per SMTP command; the final dot waits three times as long */
  timeout: duration().default(30_000),
});

export const actorSchemas = {
  legit: z.strictObject({ kind: z.literal('legit'), ...mailer({ recipients: [1, 3], size: [2048, 20 * 1024], connections: 2, reuse: 100, retry: true, pipelining: true }) }),
  spammer: z.strictObject({ kind: z.literal('spammer'), ...mailer({ recipients: [20, 50], size: [1024, 4096], connections: 4, reuse: 20, retry: false, pipelining: false }) }),
  worm: z.strictObject({
    kind: z.literal('worm'),
    ...mailer({ recipients: [10, 30], size: [2048, 4096], connections: 10, reuse: 1, retry: false, pipelining: false }),
    attachments: z.array(z.string().min(1)).default(['invoice.pdf.exe']),
    attachmentSize: sizeRange().default({ min: 20 * 1024, max: 60 * 1024, dist: 'uniform' }),
  }),
  // CEO fraud: mail in the name of a domain whose SPF and DMARC records do not list the
  // sender; it goes through a real mail service that retries, so only authentication stops it
  spoofer: z.strictObject({
    kind: z.literal('spoofer'),
    ...mailer({ recipients: [1, 2], size: [1024, 4096], connections: 1, reuse: 1, retry: true, pipelining: true }),
    /** the address the From header claims */
    impersonate: z.string().regex(/^[^@\s]+@[A-Za-z0-9.-]+$/, 'expected an address like ceo@bank.test').default('ceo@bank.test'),
  }),
  flood: z.strictObject({
    kind: z.literal('flood'),
    ...common,
    /** connections each client tries to hold open */
    connections: z.number().int().min(1).max(20_000).default(100),
    hold: duration().optional(),
    /** how soon a refused or dropped connection is tried again */
    reconnect: duration().default(1000),
    /** connections of a client are opened evenly over this time */
    rampUp: duration().default(1000),
    timeout: duration().default(10_000),
  }),
  slowloris: z.strictObject({
    kind: z.literal('slowloris'),
    ...common,
    connections: z.number().int().min(1).max(20_000).default(20),
    hold: duration().optional(),
    /** one byte every `drip`: keep it under the target's idle timeout */
    drip: duration().default(2000),
    /** drip a command line, or a message body inside DATA */
    mode: z.enum(['command', 'data']).default('command'),
    reconnect: duration().default(2000),
    rampUp: duration().default(1000),
    timeout: duration().default(10_000),
  }),
  'early-talker': z.strictObject({
    kind: z.literal('early-talker'),
    ...common,
    ...arrivals,
    /** what it says right after connecting, before any banner */
    say: z.string().min(1).default('EHLO early.talker.test'),
    timeout: duration().default(10_000),
  }),
  'relay-prober': z.strictObject({
    kind: z.literal('relay-prober'),
    ...common,
    ...arrivals,
    tricks: z.array(z.enum(RELAY_TRICKS)).min(1).default([...RELAY_TRICKS]),
    /** a domain the target serves (the tricks dress the outside address up as mail for it) */
    domain: z.string().min(1).default('example.test'),
    /** the domain the prober wants to relay to */
    outside: z.string().min(1).default('relay.outside.test'),
    timeout: duration().default(10_000),
  }),
  smuggler: z.strictObject({
    kind: z.literal('smuggler'),
    ...common,
    ...arrivals,
    variants: z.array(z.enum(SMUGGLING_VARIANTS)).min(1).default([...SMUGGLING_VARIANTS]),
    domain: z.string().min(1).default('example.test'),
    timeout: duration().default(10_000),
  }),
} satisfies Record<ActorKind, z.ZodType>;

export type ActorSpecOf<K extends ActorKind> = z.output<(typeof actorSchemas)[K]>;
export type ActorSpec = { [K in ActorKind]: ActorSpecOf<K> }[ActorKind];
export type MailerSpec = ActorSpecOf<'legit'> | ActorSpecOf<'spammer'> | ActorSpecOf<'worm'> | ActorSpecOf<'spoofer'>;

export const backendSchema = z.strictObject({
  name: name(),
  listen: hostPort().default({ host: '127.0.0.1', port: 0 }),
  latency: durationRange().default(fixed(0)),
  /** the proxy's weight for it, when the proxy config lists no servers (then every mock backend is used) */
  weight: z.number().int().min(0).default(1),
  /** concurrent sessions; beyond it the banner is 421 (0: no limit) */
  capacity: z.number().int().min(0).default(0),
  tempfail: share().default(0),
  reject: share().default(0),
  outages: z.array(z.strictObject({ from: duration(), to: duration() })).default([]),
  /** new connections per window; beyond it the banner is 421 */
  rate: rate().optional(),
  /** accepts the bare-LF/CR end-of-data variants like an unpatched MTA (shows what smuggling does) */
  lenientDataEnd: z.boolean().default(false),
});
export type BackendSpec = z.output<typeof backendSchema>;

export const markSchema = z.strictObject({
  at: duration(),
  title: z.string().min(1),
  predict: z.string().optional(),
});

/**
 * What the simulator's mock DNS serves: records as they are (SPF and DMARC TXT
 * records, A and PTR), and DNSBL zones that list the addresses of the named actors.
 */
export const dnsSchema = z.strictObject({
  records: z
    .array(z.strictObject({ name: z.string().min(1), type: z.enum(['A', 'AAAA', 'PTR', 'TXT']), data: z.string() }))
    .default([]),
  dnsbl: z
    .array(
      z.strictObject({
        zone: z.string().min(1).regex(/^[A-Za-z0-9.-]+$/, 'expected a DNS zone like bl.attitude.test'),
        listed: z.array(name()).min(1),
        answer: z.string().default('127.0.0.2'),
      }),
    )
    .default([]),
});
export type DnsSpec = z.output<typeof dnsSchema>;

/** Everything but the actors, which parse.ts validates per kind. */
export const scenarioSchema = z.strictObject({
  name: name(),
  description: z.string().default(''),
  lesson: z.string().default(''),
  seed: z.number().int().default(1),
  duration: duration(),
  /** how long retries and mail in flight may finish after `duration` */
  drain: duration().default(10_000),
  /**
   * before the traffic: the mock backends are up and nothing is sent, so a target that
   * health-checks them finds them up (default: 5s with --target, 0 in-process)
   */
  warmup: duration().optional(),
  proxy: z.string().min(1).optional(),
  proxies: z.number().int().min(1).max(16).default(1),
  backends: z.array(backendSchema).min(1),
  actors: z.array(z.unknown()).min(1),
  expect: z.record(z.string(), z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v]))).default({}),
  marks: z.array(markSchema).default([]),
  dns: dnsSchema.prefault({}),
});
