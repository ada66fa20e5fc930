// `attitude import maillog FILE`: a scenario that replays a real mail log (Postfix or
// Haraka), and beside it the proxy config with the limits the log shows. Exit 104 when
// the log cannot be read or has nothing to replay.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { InvalidFileError } from '../proxy/config/problems.ts';
import { loadProxyConfig } from '../proxy/config/load.ts';
import { parseDuration } from '../proxy/config/units.ts';
import { UnreplayableLog } from '../simulator/import/addresses.ts';
import { buildImport } from '../simulator/import/build.ts';
import { readHarakaLog, HarakaWithoutTimes } from '../simulator/import/haraka.ts';
import { readPostfixLog } from '../simulator/import/postfix.ts';
import { writeImport } from '../simulator/import/write.ts';
import { loadScenario } from '../simulator/scenario/parse.ts';
import { formatImport } from '../reports/import/import-text.ts';
import { EXIT } from './exit-codes.ts';
import { invalidInput } from './invalid-input.ts';

export interface ImportCommandOptions {
  format?: string;
  duration?: string;
  out?: string;
  map?: string;
}

const FORMATS = ['postfix', 'haraka'] as const;
type Format = (typeof FORMATS)[number];

/** Postfix's program names or Haraka's `[core]` in the first lines. */
export function detectFormat(text: string): Format | null {
  const head = text.slice(0, 200_000);
  if (/ postfix[^/\s]*\/[a-z]+\[\d+\]: /.test(head)) return 'postfix';
  if (/\] \[[0-9A-Fa-f-]{8,}(?:\.\d+)?\] \[core\] /.test(head)) return 'haraka';
  return null;
}

function fail(file: string, path_: string, message: string): never {
  throw new InvalidFileError(file, [{ path: path_, message }]);
}

export function importCommand(what: string, file: string, opts: ImportCommandOptions): number {
  try {
    if (what !== 'maillog') fail('<command line>', 'import', `expected maillog, got ${JSON.stringify(what)}`);
    const problems = [];
    if (opts.format !== undefined && !(FORMATS as readonly string[]).includes(opts.format)) problems.push({ path: '--format', message: `expected postfix or haraka, got ${JSON.stringify(opts.format)}` });
    const durationMs = opts.duration === undefined ? null : parseDuration(opts.duration);
    if (durationMs === undefined || (durationMs !== null && (durationMs < 1000 || durationMs > 3_600_000))) problems.push({ path: '--duration', message: `expected a duration from 1s to 1h, got ${JSON.stringify(opts.duration)}` });
    if (problems.length) throw new InvalidFileError('<command line>', problems);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      fail(file, '', `cannot read the log: ${(err as Error).message}`);
    }
    const format = (opts.format as Format | undefined) ?? detectFormat(text);
    if (!format) fail(file, '', 'neither a Postfix log (postfix/smtpd[PID]: lines) nor a Haraka log ([core] lines); say which with --format');
    let observation;
    try {
      observation = format === 'postfix' ? readPostfixLog(text) : readHarakaLog(text);
    } catch (err) {
      if (err instanceof HarakaWithoutTimes) fail(file, '', err.message);
      throw err;
    }
    if (!observation.sessions.length) fail(file, '', `no client connection in ${observation.lines} lines of a ${format} log`);
    const base = path.basename(file).replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9_.-]+/g, '-') || 'maillog';
    const name = `imported-${base}`;
    const scenarioFile = opts.out ?? `${name}.yaml`;
    const proxyFile = scenarioFile.replace(/(\.ya?ml)?$/i, '.proxy.yaml');
    let imported;
    try {
      imported = buildImport(observation, { name, source: path.basename(file), durationMs, proxyFile: path.basename(proxyFile), scenarioFile });
    } catch (err) {
      if (err instanceof UnreplayableLog) fail(file, '', err.message);
      throw err;
    }
    const files = { scenario: scenarioFile, proxy: proxyFile, ...(opts.map ? { map: opts.map } : {}) };
    writeImport(imported, files, path.basename(file));
    // what was written must be what `run` and `sweep` read: a bug here is not the user's
    loadScenario(scenarioFile);
    loadProxyConfig(proxyFile, { use: 'run' });
    process.stdout.write(formatImport(imported, { source: path.basename(file), format: format === 'postfix' ? 'Postfix' : 'Haraka', lines: observation.lines, skipped: observation.skipped, files }) + '\n');
    return EXIT.ok;
  } catch (err) {
    return invalidInput(err);
  }
}
