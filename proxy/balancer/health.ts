// SMTP-aware active health checks: connect, expect 220, EHLO, QUIT. A check that
// fails or takes longer than `timeout` counts towards `fall`; passing ones towards
// `rise` (Backend keeps the counts).
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
    });
    await client.quit();
    return null;
  } catch (err) {
    return (err as Error).message;
  }
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
