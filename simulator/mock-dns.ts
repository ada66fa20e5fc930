// A mock DNS server on loopback (UDP and TCP), so the proxy's own lookups (a client's
// verified name, DNS reputation, SPF) meet a real resolver protocol with the answers
// a scenario or a test chose. Names it knows answer with their records (NOERROR, maybe
// none of the asked type); names it does not know answer NXDOMAIN.
import dgram from 'node:dgram';
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import packet from 'dns-packet';

export type DnsRecordType = 'A' | 'AAAA' | 'PTR' | 'TXT';

export interface DnsRecord {
  name: string;
  type: DnsRecordType;
  data: string;
}

/** The in-addr.arpa / ip6.arpa name a PTR record of `ip` lives at. */
export function reverseName(ip: string): string {
  const addr = ipaddr.process(ip);
  if (addr.kind() === 'ipv4') return `${addr.toByteArray().reverse().join('.')}.in-addr.arpa`;
  const hex = addr.toByteArray().flatMap((b) => [b >> 4, b & 15]).map((n) => n.toString(16));
  return `${hex.reverse().join('.')}.ip6.arpa`;
}

const key = (name: string) => name.toLowerCase().replace(/\.$/, '');

/** A TXT record's text as DNS character-strings of at most 255 bytes (a DKIM key is longer). */
function characterStrings(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += 255) out.push(text.slice(i, i + 255));
  return out.length ? out : [''];
}

export class MockDns {
  private readonly records = new Map<string, DnsRecord[]>();
  private udp: dgram.Socket | null = null;
  private tcp: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  host = '127.0.0.1';
  port = 0;
  /** queries answered, by type */
  readonly queries: Record<string, number> = {};

  constructor(records: DnsRecord[] = []) {
    for (const r of records) this.add(r);
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  add(record: DnsRecord): void {
    const k = key(record.name);
    this.records.set(k, [...(this.records.get(k) ?? []), record]);
  }

  /** A and PTR records that make `name` the verified name of `ip`. */
  addHost(name: string, ip: string): void {
    this.add({ name, type: net.isIPv6(ip) ? 'AAAA' : 'A', data: ip });
    this.add({ name: reverseName(ip), type: 'PTR', data: name });
  }

  /** Listens on UDP and TCP, on the same port (port 0: a free one). */
  async start(host = '127.0.0.1', port = 0): Promise<this> {
    this.host = host;
    const tcp = net.createServer((socket) => this.serveTcp(socket));
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(port, host, () => resolve());
    });
    this.tcp = tcp;
    this.port = (tcp.address() as net.AddressInfo).port;
    const udp = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    udp.on('message', (msg, rinfo) => {
      const answer = this.answer(msg);
      if (answer) udp.send(answer, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(this.port, host, () => resolve());
    });
    this.udp = udp;
    return this;
  }

  private serveTcp(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    let buf = Buffer.alloc(0);
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        const answer = this.answer(msg);
        if (!answer) continue;
        const len = Buffer.alloc(2);
        len.writeUInt16BE(answer.length);
        socket.write(Buffer.concat([len, answer]));
      }
    });
  }

  private answer(msg: Buffer): Buffer | null {
    let query: packet.Packet;
    try {
      query = packet.decode(msg);
    } catch {
      return null;
    }
    const question = query.questions?.[0];
    if (!question) return null;
    this.queries[question.type] = (this.queries[question.type] ?? 0) + 1;
    const known = this.records.get(key(question.name));
    const answers = (known ?? [])
      .filter((r) => r.type === question.type)
      .map((r) => ({ name: question.name, type: r.type, ttl: 60, class: 'IN' as const, data: r.type === 'TXT' ? characterStrings(r.data) : r.data }));
    return packet.encode({
      id: query.id,
      type: 'response',
      flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE | (known ? 0 : 3), // rcode 3: NXDOMAIN
      questions: [question],
      answers: answers as packet.Answer[],
    });
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.tcp ? this.tcp.close(() => r()) : r()));
    await new Promise<void>((r) => (this.udp ? this.udp.close(() => r()) : r()));
    this.tcp = null;
    this.udp = null;
  }
}
