// `attitude run SCENARIO`: parse and plan up front (104 on any problem), run,
// write the outputs, print the end summary, exit 0 / 99 / 104 / 105.
import { loadProxyConfig } from '../proxy/config/load.ts';
import { parseHostPort, type HostPort } from '../proxy/config/fields.ts';
import { InvalidFileError } from '../proxy/config/problems.ts';
import { parseDuration } from '../proxy/config/units.ts';
import { buildPlan } from '../simulator/plan.ts';
import { attachProgress } from '../simulator/progress-text.ts';
import { defaultOutDir, runPlan } from '../simulator/run.ts';
import { checkProxyBinding, loadScenario } from '../simulator/scenario/parse.ts';
import { formatSummary } from '../simulator/summary-text.ts';
import { EXIT } from './exit-codes.ts';

export interface RunCommandOptions {
  proxyConfig?: string;
  target?: string;
  targetAdmin?: string;
  seed?: string;
  out?: string;
  tui?: boolean;
  lesson?: boolean;
  duration?: string;
  quiet?: boolean;
}

function option<T>(name: string, value: string | undefined, parse: (v: string) => T | undefined, expected: string): T | undefined {
  if (value === undefined) return undefined;
  const parsed = parse(value);
  if (parsed === undefined) throw new InvalidFileError('<command line>', [{ path: `--${name}`, message: `expected ${expected}, got ${JSON.stringify(value)}` }]);
  return parsed;
}

export async function runCommand(scenarioArg: string, opts: RunCommandOptions): Promise<number> {
  let prepared;
  try {
    const scenario = loadScenario(scenarioArg);
    const seed = option('seed', opts.seed, (v) => (/^-?\d+$/.test(v) ? Number(v) : undefined), 'an integer');
    const durationMs = option('duration', opts.duration, (v) => {
      const d = parseDuration(v);
      return d && d > 0 ? d : undefined;
    }, 'a duration like 5s');
    const target = option<HostPort>('target', opts.target, parseHostPort, 'HOST:PORT');
    const targetAdmin = option<HostPort>('target-admin', opts.targetAdmin, parseHostPort, 'HOST:PORT');
    const proxyConfigFile = target ? null : (opts.proxyConfig ?? scenario.proxyFile);
    const proxyConfig = proxyConfigFile ? loadProxyConfig(proxyConfigFile) : null;
    if (proxyConfig && proxyConfigFile) checkProxyBinding(proxyConfig, scenario, proxyConfigFile);
    const plan = buildPlan(scenario, { seed, durationMs });
    prepared = { plan, proxyConfig, proxyConfigFile, target, targetAdmin };
  } catch (err) {
    if (err instanceof InvalidFileError) {
      process.stderr.write(err.message + '\n');
      return EXIT.invalidInput;
    }
    throw err;
  }

  const outDir = opts.out ?? defaultOutDir(prepared.plan.scenario.name);
  const interrupt = new AbortController();
  const onSigint = () => {
    if (interrupt.signal.aborted) process.exit(EXIT.interrupted);
    process.stderr.write('\nattitude: interrupted, stopping (again to quit at once)\n');
    interrupt.abort();
  };
  process.on('SIGINT', onSigint);
  const write = (line: string) => process.stdout.write(line + '\n');
  // workshop mode: the lesson first; the marks show up in the progress lines (pausing at them is the TUI's job)
  if (opts.lesson && prepared.plan.scenario.lesson) write(`\n${prepared.plan.scenario.lesson.trim().replace(/^/gm, '  ')}\n`);
  try {
    const result = await runPlan({
      plan: prepared.plan,
      proxyConfig: prepared.proxyConfig,
      proxyConfigFile: prepared.proxyConfigFile,
      target: prepared.target,
      targetAdmin: prepared.targetAdmin,
      outDir,
      signal: interrupt.signal,
      // the live TUI belongs to the reports; until then `run` prints plain progress lines
      onBus: opts.quiet ? undefined : (bus) => attachProgress(bus, write),
    });
    write(formatSummary(result.summary, outDir));
    return result.exitCode;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
