// Writes made in one tick of the event loop leave in one segment: the socket is
// corked at the first write and uncorked on the next tick, so pipelined replies (or
// a command and the ones sent with it) cost one syscall and one packet, not several.
import type net from 'node:net';

/** Corks `socket` until the next tick, unless it is corked already. */
export function corkUntilNextTick(socket: net.Socket): void {
  if (socket.writableCorked) return;
  socket.cork();
  process.nextTick(() => socket.uncork());
}

export class TickWriter {
  constructor(readonly socket: net.Socket) {}

  /** `written`: called once the data is handed to the kernel */
  write(data: string | Buffer, written?: () => void): boolean {
    corkUntilNextTick(this.socket);
    return this.socket.write(data, written);
  }
}
