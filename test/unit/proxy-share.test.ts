// One of N workers applies its share of the limits that belong to the whole proxy.
import { describe, expect, it } from 'vitest';
import { parseProxyConfig } from '../../proxy/config/load.ts';
import { Proxy } from '../../proxy/proxy.ts';

describe('a worker share of the global limits', () => {
  it('splits the global cap, the global bandwidth and each backend cap, not the per-client limits', async () => {
    const config = parseProxyConfig({
      connections: { max: 1000, perClient: 10 },
      throttle: { perClient: '256KB/s', global: '10MB/s' },
      backends: { servers: [{ name: 'mx1', address: '127.0.0.1:2601', maxConnections: 50 }] },
    });
    const proxy = new Proxy(config, { processMetrics: false, globalShare: 1 / 4 });
    const c = proxy.currentConfig();
    expect(c.connections).toMatchObject({ max: 250, perClient: 10 });
    expect(c.throttle).toEqual({ perClient: 256 * 1024, global: Math.floor((10 * 1024 * 1024) / 4) });
    expect(c.backends.servers[0].maxConnections).toBe(13);
    // /state says what the file says, and this worker's own share beside it
    expect(proxy.state().connections).toMatchObject({ max: 1000, workerMax: 250 });
    await proxy.close(0);
  });

  it('shows a single process its whole cap on /state, with no share beside it', async () => {
    const config = parseProxyConfig({ connections: { max: 1000 }, backends: { servers: [{ name: 'mx1', address: '127.0.0.1:2601' }] } });
    const proxy = new Proxy(config, { processMetrics: false });
    expect(proxy.state().connections).toMatchObject({ max: 1000 });
    expect(proxy.state().connections).not.toHaveProperty('workerMax');
    await proxy.close(0);
  });
});
