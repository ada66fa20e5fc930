// A TCP server on 127.0.0.1 port 0 for the tests' own backends. It keeps its sockets,
// so close() ends the open connections too (server.close() alone waits for them).
import net from 'node:net';

export interface LoopbackServer {
  port: number;
  address: string;
  close(): Promise<void>;
}

export async function listenLoopback(onConnection: (socket: net.Socket) => void): Promise<LoopbackServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    onConnection(socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        if (!server.listening) return r();
        server.close(() => r());
      }),
  };
}
