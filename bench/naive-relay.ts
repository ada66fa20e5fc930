// The baseline a proxy should beat: smtp-server with its defaults in front of a
// pooled nodemailer transport, relaying each message whole (the usual first try).
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import type net from 'node:net';

export async function startNaiveRelay(backendPort: number): Promise<{ port: number; close(): Promise<void> }> {
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
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.server.address() as net.AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise((r) => {
        transport.close();
        server.close(() => r());
      }),
  };
}
