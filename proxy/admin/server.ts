// The admin endpoint: /metrics (Prometheus), /healthz, /state (JSON).
import http from 'node:http';
import type { HostPort } from '../config/fields.ts';
import type { Proxy } from '../proxy.ts';

export class AdminServer {
  private server: http.Server;
  address: HostPort | null = null;

  constructor(private readonly proxy: Proxy) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n');
      if (path === '/metrics') return send(res, 200, this.proxy.metrics.contentType, await this.proxy.metrics.metrics());
      if (path === '/state') return send(res, 200, 'application/json', JSON.stringify(this.proxy.state(), null, 2) + '\n');
      if (path === '/healthz') {
        const state = this.proxy.state();
        const up = state.backends.filter((b) => b.health === 'up').length;
        const ok = up > 0 && !state.closing;
        return send(res, ok ? 200 : 503, 'application/json', JSON.stringify({ status: ok ? 'ok' : state.closing ? 'closing' : 'no healthy backend', backendsUp: up }) + '\n');
      }
      send(res, 404, 'text/plain', 'not found: try /metrics, /healthz or /state\n');
    } catch (err) {
      send(res, 500, 'text/plain', `error: ${(err as Error).message}\n`);
    }
  }

  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        const a = this.server.address() as { address: string; port: number };
        this.address = { host: a.address, port: a.port };
        resolve();
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}
