import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadProxyConfig, parseProxyConfig } from '../../proxy/config/load.ts';
import { parseBandwidth, parseDuration, parseRate, parseSize } from '../../proxy/config/units.ts';
import { problems } from '../helpers/problems.ts';


describe('units', () => {
  it('parses durations, sizes, rates and bandwidth', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('5s')).toBe(5000);
    expect(parseDuration('1m')).toBe(60_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('5 weeks')).toBeUndefined();
    expect(parseSize('512B')).toBe(512);
    expect(parseSize('64KB')).toBe(65536);
    expect(parseSize('10MB')).toBe(10 * 1024 * 1024);
    expect(parseSize('lots')).toBeUndefined();
    expect(parseRate('60/1m')).toEqual({ count: 60, perMs: 60_000 });
    expect(parseRate('5/s')).toEqual({ count: 5, perMs: 1000 });
    expect(parseRate('5')).toBeUndefined();
    expect(parseBandwidth('256KB/s')).toBe(262144);
    expect(parseBandwidth('256KB')).toBeUndefined();
  });
});

describe('proxy config', () => {
  it('fills every default from a file with only backends.servers', () => {
    const c = parseProxyConfig({ backends: { servers: [{ name: 'mx1', address: '127.0.0.1:2601' }] } });
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 2525 });
    expect(c.connections).toMatchObject({ max: 1000, perClient: 10, rate: { count: 60, perMs: 60_000 }, greetPause: 0, idleTimeout: 300_000 });
    expect(c.messages).toMatchObject({ maxSize: 10 * 1024 * 1024, maxRecipients: 100 });
    expect(c.throttle).toEqual({ perClient: 262144, global: 50 * 1024 * 1024 });
    expect(c.filters.strictLineEndings).toBe(true);
    expect(c.backends).toMatchObject({ strategy: 'round-robin', healthCheck: { interval: 5000, timeout: 2000, rise: 2, fall: 3 } });
    expect(c.backends.servers[0]).toEqual({ name: 'mx1', address: { host: '127.0.0.1', port: 2601 }, weight: 1, maxConnections: 50, xclient: false, proxyProtocol: 'off' });
    expect(c.store).toBe('memory');
  });

  it('lists every problem at once with its key path and what was expected', () => {
    const list = problems(() =>
      parseProxyConfig(
        {
          listen: 'nowhere',
          connections: { max: 'many', rate: 'fast', greetPause: '2 weeks', typo: 1 },
          messages: { maxSize: 'huge' },
          throttle: { perClient: '256KB' },
          backends: { strategy: 'random', servers: [{ name: 'a', address: '127.0.0.1:99999', proxyProtocol: 'v3' }] },
          store: 'mysql://x',
        },
        'bad.yaml',
      ),
    );
    expect(list).toEqual([
      'listen: expected HOST:PORT like 127.0.0.1:2525, got "nowhere"',
      'connections.max: expected number, got "many"',
      'connections.rate: expected a rate like 60/1m or 5/s, got "fast"',
      'connections.greetPause: expected a duration like 500ms, 5s, 1m or 1h, got "2 weeks"',
      'connections.typo: unknown key',
      'messages.maxSize: expected a size like 512B, 64KB or 10MB, got "huge"',
      'throttle.perClient: expected a bandwidth like 256KB/s, got "256KB"',
      'backends.strategy: expected one of "round-robin", "weighted", "least-connections", "hash-sender", "hash-client", got "random"',
      'backends.servers[0].address: expected HOST:PORT like 127.0.0.1:2525, got "127.0.0.1:99999"',
      'backends.servers[0].proxyProtocol: expected one of "off", "v1", "v2", got "v3"',
      'store: expected "memory" or a redis://HOST:PORT/DB URL',
    ]);
  });

  it('checks across keys: duplicate names, addresses required to run the proxy', () => {
    expect(problems(() => parseProxyConfig({ backends: { servers: [{ name: 'a' }, { name: 'a', address: '127.0.0.1:1' }] } }, 'x', { use: 'proxy' }))).toEqual([
      'backends.servers[0].address: expected HOST:PORT (only a scenario run binds a server to a mock backend by name)',
      'backends.servers[1].name: duplicate server name "a"',
    ]);
  });

  it('reports YAML syntax errors with their line and unreadable files', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'attitude-config-'));
    const file = path.join(dir, 'broken.yaml');
    writeFileSync(file, 'listen: 127.0.0.1:2525\nbackends:\n  servers: [\n');
    const list = problems(() => loadProxyConfig(file));
    const missing = problems(() => loadProxyConfig(path.join(dir, 'missing.yaml')));
    rmSync(dir, { recursive: true, force: true });
    expect(list[0]).toMatch(/^line \d+: /);
    expect(missing[0]).toMatch(/cannot read file/);
  });
});
