// One worker of `attitude proxy --workers N`: a whole proxy on the shared port, its
// limits kept in the primary (IpcStore), its admin answers given to the primary.
import cluster from 'node:cluster';
import type { ProxyConfig } from '../config/schema.ts';
import { createLogger } from '../log.ts';
import { Proxy } from '../proxy.ts';
import { IpcStore } from './ipc-store.ts';

export type ToWorker =
  | { attitude: 'reload'; config: ProxyConfig }
  | { attitude: 'shutdown' }
  | { attitude: 'ask'; id: number; what: 'state' | 'metrics' };

export type FromWorker =
  | { attitude: 'listening'; host: string; port: number }
  | { attitude: 'answer'; id: number; value: unknown }
  | { attitude: 'stopped' };

export async function runWorker(config: ProxyConfig, workers: number): Promise<void> {
  // the primary decides when to stop; a signal sent to the whole process group is its to handle
  process.on('SIGTERM', () => {});
  process.on('SIGINT', () => {});
  process.on('SIGHUP', () => {});
  // a primary stopped while this worker was starting leaves it without its channel
  // (EPIPE when it asks for the listening socket): nothing to serve for, end quietly
  cluster.worker?.on('error', () => process.exit(0));
  const logger = createLogger(config.log.level).child({ worker: process.env.ATTITUDE_WORKER_ID ?? String(process.pid) });
  const store = config.store === 'memory' ? new IpcStore() : undefined;
  const proxy = await Proxy.start({ ...config, admin: null }, { logger, store, globalShare: 1 / workers });
  const send = (msg: FromWorker) => process.send?.(msg);
  send({ attitude: 'listening', host: proxy.address.host, port: proxy.address.port });
  process.on('message', (msg: ToWorker) => {
    if (!msg || typeof msg !== 'object' || !('attitude' in msg)) return;
    switch (msg.attitude) {
      case 'reload':
        proxy.reload(msg.config);
        break;
      case 'shutdown':
        void proxy.close().then(() => {
          logger.flush(() => {
            send({ attitude: 'stopped' });
            process.exit(0);
          });
        });
        break;
      case 'ask':
        void (msg.what === 'state' ? Promise.resolve(proxy.state()) : proxy.metrics.getMetricsAsJSON()).then((value) => send({ attitude: 'answer', id: msg.id, value }));
        break;
    }
  });
}
