// The ceiling for any relay written in Node: each connection spliced byte for byte
// to the backend, no SMTP at all (no parsing, no waiting for the backend's verdict
// before answering). A real SMTP proxy cannot go faster than this on the same cores.
// Usage: tcp-splice.ts BACKEND_PORT; prints its own port on stdout.
import net from 'node:net';

const backendPort = Number(process.argv[2]);
const server = net.createServer((client) => {
  const backend = net.connect(backendPort, '127.0.0.1');
  client.setNoDelay(true);
  backend.setNoDelay(true);
  client.pipe(backend).pipe(client);
  client.on('error', () => backend.destroy());
  backend.on('error', () => client.destroy());
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as net.AddressInfo).port}\n`));
process.on('SIGTERM', () => process.exit(0));
