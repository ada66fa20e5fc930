import { proxyConfigSchema, type ProxyConfig } from './schema.ts';
import { InvalidFileError, readYaml, validate, type Problem } from './problems.ts';

export type { ProxyConfig } from './schema.ts';

export interface LoadOptions {
  /** `attitude proxy` needs real addresses; a scenario run binds servers to mock backends by name. */
  requireAddresses?: boolean;
}

/** Checks across keys that a schema of single values cannot express. */
export function crossCheck(config: ProxyConfig, options: LoadOptions = {}): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  config.backends.servers.forEach((server, i) => {
    if (seen.has(server.name)) problems.push({ path: `backends.servers[${i}].name`, message: `duplicate server name "${server.name}"` });
    seen.add(server.name);
    if (options.requireAddresses && !server.address) {
      problems.push({ path: `backends.servers[${i}].address`, message: 'expected HOST:PORT (only a scenario run binds a server to a mock backend by name)' });
    }
  });
  if (options.requireAddresses && config.backends.servers.length === 0) {
    problems.push({ path: 'backends.servers', message: 'expected at least one backend server' });
  }
  if (config.backends.strategy === 'weighted' && config.backends.servers.length && config.backends.servers.every((s) => s.weight === 0)) {
    problems.push({ path: 'backends.servers', message: 'expected at least one server with weight > 0' });
  }
  if (config.backends.healthCheck.timeout >= config.backends.healthCheck.interval) {
    problems.push({ path: 'backends.healthCheck.timeout', message: 'expected a timeout shorter than the interval' });
  }
  if (config.connections.errorSoftLimit > config.connections.errorHardLimit) {
    problems.push({ path: 'connections.errorSoftLimit', message: 'expected a soft limit <= connections.errorHardLimit' });
  }
  return problems;
}

export function parseProxyConfig(data: unknown, file = '<config>', options: LoadOptions = {}): ProxyConfig {
  const config = validate(proxyConfigSchema, data, file);
  const problems = crossCheck(config, options);
  if (problems.length) throw new InvalidFileError(file, problems);
  return config;
}

export function loadProxyConfig(file: string, options: LoadOptions = {}): ProxyConfig {
  return parseProxyConfig(readYaml(file), file, options);
}
