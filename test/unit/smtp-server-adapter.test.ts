// The private fields of smtp-server the mock backends rely on (simulator/smtp-server-adapter.ts):
// one check each, so an upgrade that renames one fails here, by name.
import net from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { SMTPServer } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { QuickSmtpServer, type ServerInternals } from '../../simulator/smtp-server-adapter.ts';

describe('smtp-server internals used by the mock backends', () => {
  const server = new SMTPServer({ logger: false }) as unknown as ServerInternals;

  it('the server keeps its connections in a Set called connections', () => {
    expect(server.connections).toBeInstanceOf(Set);
  });

  it.each(['_onError', '_onClientConnect'] as const)('the server has %s()', (name) => {
    expect(typeof server[name]).toBe('function');
  });

  it.each(['_setListeners', 'connectionReady', 'init', 'send'])('a connection has %s()', (name) => {
    expect(typeof (SMTPConnection.prototype as unknown as Record<string, unknown>)[name]).toBe('function');
  });

  it('a connection keeps its socket as _socket, and the quick server greets at once and finds it by session id', async () => {
    const quick = new QuickSmtpServer({ logger: false, disableReverseLookup: true, authOptional: true, onConnect: (_s, cb) => cb() });
    await new Promise<void>((r) => quick.listen(0, '127.0.0.1', () => r()));
    const port = (quick.server.address() as net.AddressInfo).port;
    // smtp-server's own init() holds every banner 100 ms: the quick server never calls it
    const init = vi.spyOn(SMTPConnection.prototype as unknown as { init(): void }, 'init');
    const socket = net.connect(port, '127.0.0.1');
    const banner = await new Promise<string>((r) => socket.once('data', (d) => r(String(d))));
    expect(banner).toMatch(/^220 /);
    expect(init).not.toHaveBeenCalled();
    init.mockRestore();
    const [connection] = (quick as unknown as ServerInternals).connections;
    expect(connection._socket).toBeInstanceOf(net.Socket);
    expect(quick.socketOf(connection.id)).toBe(connection._socket);
    const closed = new Promise((r) => socket.once('close', r));
    quick.dropAll();
    await closed;
    await new Promise<void>((r) => quick.close(() => r()));
  });
});
