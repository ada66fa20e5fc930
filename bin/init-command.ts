// `attitude init [--out FILE] [--postfix|--proxy-protocol] [--backends N] [--force]`:
// a commented starter proxy.yaml, on stdout or into FILE (never over an existing one
// unless --force).
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAX_STARTER_BACKENDS, starterConfig } from '../proxy/config/starter.ts';
import { EXIT } from './exit-codes.ts';

export interface InitOptions {
  out?: string;
  postfix?: boolean;
  proxyProtocol?: boolean;
  backends?: string;
  force?: boolean;
}

const SCHEMA = fileURLToPath(new URL('../schemas/proxy.json', import.meta.url));

/**
 * Where the file's yaml-language-server line finds the schema, the one of this very
 * package. Relative to the written file when the package lies inside the file's folder
 * (a project with node_modules/smtp-attitude beside its proxy.yaml: it stays right
 * when the project folder moves); absolute otherwise (/etc/attitude/proxy.yaml with
 * the package under /opt or /usr/lib: a relative path would climb to / and back).
 * On stdout the file's place is unknown: absolute, which is right wherever it goes.
 */
export function schemaPathFor(out: string | undefined): string {
  if (!out) return SCHEMA;
  const relative = path.relative(path.dirname(path.resolve(out)), SCHEMA);
  return relative.startsWith('..') || path.isAbsolute(relative) ? SCHEMA : `./${relative.split(path.sep).join('/')}`;
}

export function initCommand(opts: InitOptions): number {
  const backends = opts.backends === undefined ? 1 : Number(opts.backends);
  if (!Number.isInteger(backends) || backends < 1 || backends > MAX_STARTER_BACKENDS) {
    process.stderr.write(`--backends: expected a whole number from 1 to ${MAX_STARTER_BACKENDS}, got ${JSON.stringify(opts.backends)}\n`);
    return EXIT.invalidInput;
  }
  const text = starterConfig({ proxyProtocol: !!opts.proxyProtocol, backends, schemaPath: schemaPathFor(opts.out) });
  if (!opts.out) {
    process.stdout.write(text);
    return EXIT.ok;
  }
  if (existsSync(opts.out) && !opts.force) {
    process.stderr.write(`${opts.out}: exists; not overwritten (--force overwrites it)\n`);
    return EXIT.invalidInput;
  }
  writeFileSync(opts.out, text);
  process.stdout.write(`wrote ${opts.out}: change what says CHANGE, then attitude validate ${opts.out}\n`);
  return EXIT.ok;
}
