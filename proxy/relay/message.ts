// The Received trace header the proxy adds to a message on its way to the backend.

export interface TraceInfo {
  helo: string;
  clientIp: string;
  hostname: string;
  protocol: string;
  id: string;
  recipients: string[];
  date?: Date;
}

function sanitize(value: string): string {
  // nothing a client sends may break the header onto a new line
  return value.replace(/[^\x21-\x7e]/g, '');
}

/** RFC 5321 4.4 trace header, folded so no line exceeds 78 characters in practice. */
export function receivedHeader(t: TraceInfo): string {
  const ip = t.clientIp.startsWith('::ffff:') ? t.clientIp.slice(7) : t.clientIp;
  const literal = ip.includes(':') ? `IPv6:${ip}` : ip;
  const helo = sanitize(t.helo) || 'unknown';
  const forPart = t.recipients.length === 1 ? `\r\n\tfor <${sanitize(t.recipients[0])}>` : '';
  return `Received: from ${helo} ([${literal}])\r\n\tby ${t.hostname} (attitude) with ${t.protocol} id ${t.id}${forPart};\r\n\t${(t.date ?? new Date()).toUTCString().replace('GMT', '+0000')}\r\n`;
}
