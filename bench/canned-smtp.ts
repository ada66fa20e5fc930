// A server that answers SMTP from a script, with no relay behind it: 250 to every
// command, 354 to DATA, 250 to the final dot, 221 to QUIT. Its argument (µs, 0 by
// default) busies the CPU that long before each reply, to stand for a relay's own work.
// What its writes cost in the kernel, with and without that work, is
// bench/write-cost.ts's question. Prints its port on stdout.
import net from 'node:net';
import { crlfLines } from '../test/helpers/scripted-backend.ts';

const burnMs = Number(process.argv[2] ?? 0) / 1000;
const reply = (socket: net.Socket, text: string) => {
  const until = performance.now() + burnMs;
  while (performance.now() < until);
  socket.write(text);
};

const server = net.createServer({ noDelay: true }, (socket) => {
  socket.write('220 canned ESMTP\r\n');
  let inData = false;
  socket.on(
    'data',
    crlfLines((line) => {
      if (inData) {
        if (line !== '.') return;
        inData = false;
        return reply(socket, '250 2.0.0 Ok\r\n');
      }
      const verb = line.slice(0, 4).toUpperCase();
      if (verb === 'QUIT') return void socket.end('221 2.0.0 Bye\r\n');
      inData = verb === 'DATA';
      reply(socket, inData ? '354 go ahead\r\n' : '250 Ok\r\n');
    }),
  );
  socket.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as net.AddressInfo).port}\n`));
process.on('SIGTERM', () => process.exit(0));
