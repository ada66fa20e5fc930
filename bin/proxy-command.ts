// `attitude proxy --config FILE [--workers N] [--pid-file FILE]`: the reference proxy
// as a long-running service. SIGTERM drains and exits; SIGHUP reloads the config file
// (a bad file is refused and the running config stays). This process is the one to
// signal: bin/attitude.js loads tsx in-process, so there is no child to forward to.
import { loadProxyConfig } from '../proxy/config/load.ts';
import { InvalidFileError } from '../proxy/config/problems.ts';
import { createLogger } from '../proxy/log.ts';
import { Proxy } from '../proxy/proxy.ts';
import { EXIT } from './exit-codes.ts';
import cluster from 'node:cluster';
import os from 'node:os';
import { runPrimary } from '../proxy/cluster/primary.ts';
import { runWorker } from '../proxy/cluster/worker.ts';
import type { Logger } from 'pino';
import { writePidFile } from './pid-file.ts';

export interface ProxyCommandOptions {
  config: string;
  workers?: string;
  pidFile?: string;
}

/**
 * Signals that arrive while the proxy is starting, before it has its own handlers: a
 * SIGHUP (systemctl reload right after start) must not kill it, as SIGHUP's default
 * action would; a SIGTERM or SIGINT ends it at once (nothing to drain yet), through
 * process.exit so the pid file goes too. Once the proxy's own handlers are there,
 * these stand aside.
 */
function holdEarlySignals(logger: Logger): void {
  // the launcher's placeholder (bin/attitude.js) held SIGHUP until now
  process.removeAllListeners('SIGHUP');
  for (const signal of ['SIGHUP', 'SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (process.listenerCount(signal) > 1) return;
      if (signal === 'SIGHUP') logger.warn({ msg: 'SIGHUP while starting: the config was just read, nothing to reload' });
      else process.exit(EXIT.interrupted);
    });
  }
}

export async function proxyCommand(opts: ProxyCommandOptions): Promise<number> {
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
  holdEarlySignals(logger);
  if (opts.pidFile) {
    try {
      writePidFile(opts.pidFile);
    } catch (err) {
      process.stderr.write(`--pid-file: cannot write ${opts.pidFile}: ${(err as Error).message}\n`);
      return EXIT.error;
    }
  }
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
