// The baseline a proxy should beat: smtp-server with its defaults in front of a
// pooled nodemailer transport, relaying each message whole (the usual first try).
// Usage: naive-relay.ts BACKEND_PORT; prints its own port on stdout.
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import type net from 'node:net';

const backendPort = Number(process.argv[2]);
const transport = nodemailer.createTransport({ host: '127.0.0.1', port: backendPort, pool: true, maxConnections: 50, maxMessages: Infinity, ignoreTLS: true });
const server = new SMTPServer({
  logger: false,
  authOptional: true,
  disabledCommands: ['AUTH', 'STARTTLS'],
  onData(stream, session, cb) {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      transport.sendMail(
        { envelope: { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address) }, raw: Buffer.concat(chunks) },
        (err) => cb(err ?? null),
      );
    });
  },
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.server.address() as net.AddressInfo).port}\n`));
process.on('SIGTERM', () => process.exit(0));
