// A server that answers SMTP from a script, with no relay behind it: 250 to every
// command, 354 to DATA, 250 to the final dot, 221 to QUIT. BURN_US busies the CPU for
// that long before each reply, to stand for a relay's own work. What its writes cost
// in the kernel, with and without that work, is bench/write-cost.ts's question.
// Prints its port on stdout.
import net from 'node:net';

const burnMs = Number(process.env.BURN_US ?? 0) / 1000;
const reply = (socket: net.Socket, text: string) => {
  const until = performance.now() + burnMs;
  while (performance.now() < until);
  socket.write(text);
};

const server = net.createServer({ noDelay: true }, (socket) => {
  socket.write('220 canned ESMTP\r\n');
  let inData = false;
  let buf = '';
  socket.on('data', (d) => {
    buf += d.toString('latin1');
    for (;;) {
      if (inData) {
        const end = buf.indexOf('\r\n.\r\n');
        if (end < 0) {
          buf = buf.slice(-4);
          return;
        }
        buf = buf.slice(end + 5);
        inData = false;
        reply(socket, '250 2.0.0 Ok\r\n');
        continue;
      }
      const eol = buf.indexOf('\r\n');
      if (eol < 0) return;
      const verb = buf.slice(0, 4).toUpperCase();
      buf = buf.slice(eol + 2);
      if (verb === 'DATA') {
        // the final dot may follow at once: keep the CRLF before it findable
        inData = true;
        buf = '\r\n' + buf;
        reply(socket, '354 go ahead\r\n');
      } else if (verb === 'QUIT') {
        socket.end('221 2.0.0 Bye\r\n');
        return;
      } else reply(socket, '250 Ok\r\n');
    }
  });
  socket.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as net.AddressInfo).port}\n`));
process.on('SIGTERM', () => process.exit(0));
