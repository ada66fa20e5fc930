// `attitude proxy --config FILE`: the reference proxy as a long-running service.
// SIGTERM drains and exits; SIGHUP reloads the config file (a bad file is refused
// and the running config stays).
import { loadProxyConfig } from '../proxy/config/load.ts';
import { InvalidFileError } from '../proxy/config/problems.ts';
import { createLogger } from '../proxy/log.ts';
import { Proxy } from '../proxy/proxy.ts';
import { EXIT } from './exit-codes.ts';
import cluster from 'node:cluster';
import os from 'node:os';
import { runPrimary } from '../proxy/cluster/primary.ts';
import { runWorker } from '../proxy/cluster/worker.ts';

export async function proxyCommand(opts: { config: string; workers?: string }): Promise<number> {
  let config;
  try {
    config = loadProxyConfig(opts.config, { use: 'proxy' });
  } catch (err) {
    if (err instanceof InvalidFileError) {
      process.stderr.write(err.message + '\n');
      return EXIT.invalidInput;
    }
    throw err;
  }
  const workers = opts.workers === undefined ? os.availableParallelism() : Number(opts.workers);
  if (!Number.isInteger(workers) || workers < 1) {
    process.stderr.write(`--workers: expected a whole number >= 1, got ${JSON.stringify(opts.workers)}\n`);
    return EXIT.invalidInput;
  }
  if (cluster.isWorker) {
    await runWorker(config, workers);
    return new Promise(() => {}); // the primary ends this process
  }
  const logger = createLogger(config.log.level);
  if (workers > 1) {
    cluster.setupPrimary({ exec: process.argv[1], args: process.argv.slice(2) });
    return runPrimary(config, { workers, logger, reloadConfig: () => loadProxyConfig(opts.config, { use: 'proxy' }) });
  }
  const proxy = await Proxy.start(config, { logger });
  const admin = proxy.adminAddress;
  logger.info({
    msg: 'attitude proxy listening',
    listen: `${proxy.address.host}:${proxy.address.port}`,
    admin: admin ? `http://${admin.host}:${admin.port}/` : null,
    backends: config.backends.servers.map((s) => `${s.name}=${s.address!.host}:${s.address!.port}`),
    strategy: config.backends.strategy,
  });
  process.on('SIGHUP', () => {
    try {
      proxy.reload(loadProxyConfig(opts.config, { use: 'proxy' }));
    } catch (err) {
      const problems = err instanceof InvalidFileError ? err.message : (err as Error).message;
      proxy.events.emit('reload', { ok: false, problems });
    }
  });
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        logger.warn({ msg: `second ${signal}: closing now` });
        process.exit(EXIT.interrupted);
      }
      stopping = true;
      logger.info({ msg: `${signal}: draining`, timeoutMs: proxy.currentConfig().shutdownTimeout });
      void proxy.close().then(() => {
        logger.info({ msg: 'stopped' });
        logger.flush(() => resolve(EXIT.ok));
      });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}
