// Writes made in one tick of the event loop leave in one segment: the socket is
// corked at the first write and uncorked on the next tick, so pipelined replies (or
// a command and the ones sent with it) cost one syscall and one packet, not several.
import type net from 'node:net';

export class TickWriter {
  private corked = false;

  constructor(readonly socket: net.Socket) {}

  /** `written`: called once the data is handed to the kernel */
  write(data: string | Buffer, written?: () => void): boolean {
    const socket = this.socket;
    if (!this.corked) {
      this.corked = true;
      socket.cork();
      process.nextTick(() => {
        this.corked = false;
        socket.uncork();
      });
    }
    return socket.write(data, written);
  }
}
