// SMTP-aware active health checks: connect, expect 220, EHLO, QUIT. A check that
// fails or takes longer than `timeout` counts towards `fall`; passing ones towards
// `rise` (Backend keeps the counts). A check speaks what a transaction connection
// speaks: to a backend behind the PROXY protocol it sends a header naming the check
// connection's own addresses (as HAProxy's check-send-proxy does), or the backend
// drops it before the banner and is marked down by its own proxy.
import type net from 'node:net';
import { proxyHeader } from '../relay/proxy-protocol.ts';
import { SmtpClient } from '../relay/smtp-client.ts';
import type { Backend } from './backend.ts';

export interface HealthCheckOptions {
  enabled: boolean;
  interval: number;
  timeout: number;
  helo: string;
}

export async function checkOnce(backend: Backend, options: HealthCheckOptions): Promise<string | null> {
  try {
    const client = await SmtpClient.connect({
      host: backend.address.host,
      port: backend.address.port,
      connectTimeout: options.timeout,
      commandTimeout: options.timeout,
      helo: options.helo,
      preamble: backend.proxyProtocol === 'off' ? undefined : (socket) => ownHeader(backend.proxyProtocol as 'v1' | 'v2', socket),
    });
    await client.quit();
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

function ownHeader(version: 'v1' | 'v2', socket: net.Socket): Buffer {
  return proxyHeader(version, { ip: socket.localAddress ?? '127.0.0.1', port: socket.localPort ?? 0, localIp: socket.remoteAddress ?? '127.0.0.1', localPort: socket.remotePort ?? 0 });
}

export class HealthChecker {
  private timer: NodeJS.Timeout | null = null;
  private running = new Set<Backend>();

  constructor(
    private backends: () => Backend[],
    private options: HealthCheckOptions,
  ) {}

  setOptions(options: HealthCheckOptions): void {
    this.options = options;
    if (this.timer) {
      this.stop();
      this.start();
    }
  }

  start(): void {
    if (!this.options.enabled || this.timer) return;
    this.timer = setInterval(() => this.checkAll(), this.options.interval);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  checkAll(): Promise<void> {
    if (!this.options.enabled) return Promise.resolve();
    return Promise.all(this.backends().map((b) => this.check(b))).then(() => {});
  }

  private async check(backend: Backend): Promise<void> {
    // a slow backend must not pile up checks
    if (this.running.has(backend)) return;
    this.running.add(backend);
    try {
      const error = await checkOnce(backend, this.options);
      if (error === null) backend.recordSuccess();
      else backend.recordFailure(`health check: ${error}`);
    } finally {
      this.running.delete(backend);
    }
  }
}
