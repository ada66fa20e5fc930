import { proxyConfigSchema, type ProxyConfig } from './schema.ts';
import { InvalidFileError, readYaml, validate, type Problem } from './problems.ts';

export type { ProxyConfig } from './schema.ts';

/**
 * What a config is for: `attitude proxy` needs at least one server, each with an
 * address; `attitude run` binds servers without one to the scenario's mock backends of
 * the same name (and takes every mock backend when there are none). One validation
 * serves both, and `attitude validate` asks the same question as the command that
 * will use the file.
 */
export type ConfigUse = 'proxy' | 'run';

export interface LoadOptions {
  use?: ConfigUse;
}

/** Checks of the server list that hold even when other keys are invalid, so every problem is listed at once. */
function serverProblems(servers: unknown, options: LoadOptions): Problem[] {
  const problems: Problem[] = [];
  const requireAddresses = options.use === 'proxy';
  if (!Array.isArray(servers)) {
    if (requireAddresses) problems.push({ path: 'backends.servers', message: 'expected at least one backend server' });
    return problems;
  }
  if (requireAddresses && servers.length === 0) problems.push({ path: 'backends.servers', message: 'expected at least one backend server' });
  const seen = new Set<string>();
  servers.forEach((server: { name?: unknown; address?: unknown } | null, i) => {
    if (!server || typeof server !== 'object') return;
    if (typeof server.name === 'string') {
      if (seen.has(server.name)) problems.push({ path: `backends.servers[${i}].name`, message: `duplicate server name "${server.name}"` });
      seen.add(server.name);
    }
    if (requireAddresses && server.address === undefined) {
      problems.push({ path: `backends.servers[${i}].address`, message: 'expected HOST:PORT (only a scenario run binds a server to a mock backend by name)' });
    }
  });
  return problems;
}

/** Checks across keys that a schema of single values cannot express. */
export function crossCheck(config: ProxyConfig): Problem[] {
  const problems: Problem[] = [];
  if (config.backends.strategy === 'weighted' && config.backends.servers.length && config.backends.servers.every((s) => s.weight === 0)) {
    problems.push({ path: 'backends.servers', message: 'expected at least one server with weight > 0' });
  }
  if (config.backends.healthCheck.timeout >= config.backends.healthCheck.interval) {
    problems.push({ path: 'backends.healthCheck.timeout', message: 'expected a timeout shorter than the interval' });
  }
  if (config.connections.stress.release >= config.connections.stress.threshold) {
    problems.push({ path: 'connections.stress.release', message: 'expected a release below connections.stress.threshold (the hysteresis)' });
  }
  if (config.connections.errorSoftLimit > config.connections.errorHardLimit) {
    problems.push({ path: 'connections.errorSoftLimit', message: 'expected a soft limit <= connections.errorHardLimit' });
  }
  return problems;
}

export function parseProxyConfig(data: unknown, file = '<config>', options: LoadOptions = {}): ProxyConfig {
  const raw = (data ?? {}) as { backends?: { servers?: unknown } };
  const listProblems = serverProblems(raw.backends?.servers ?? [], options);
  let config: ProxyConfig;
  try {
    config = validate(proxyConfigSchema, data, file);
  } catch (err) {
    if (err instanceof InvalidFileError && listProblems.length) throw new InvalidFileError(file, [...err.problems, ...listProblems]);
    throw err;
  }
  const problems = [...listProblems, ...crossCheck(config)];
  if (problems.length) throw new InvalidFileError(file, problems);
  return config;
}

export function loadProxyConfig(file: string, options: LoadOptions = {}): ProxyConfig {
  return parseProxyConfig(readYaml(file), file, options);
}
