// A connection refused before its dialogue: one reply, then the socket closes.
import type net from 'node:net';
import { formatReply, type Reply } from '../replies.ts';

/** How long a refused client may take to read its reply before the socket is destroyed. */
const REFUSAL_LINGER_MS = 2000;

/** Writes the refusal and closes; whatever the client still sends is read and dropped. */
export function refuse(socket: net.Socket, r: Reply): void {
  socket.removeAllListeners('data');
  socket.on('data', () => {});
  socket.end(formatReply(r) + '\r\n');
  const linger = setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS);
  linger.unref();
  socket.once('close', () => clearTimeout(linger));
}
