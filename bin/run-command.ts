// `attitude run SCENARIO`: parse and plan up front (104 on any problem), run with
// the live reports attached (the TUI on a terminal, else progress lines), write
// the report files, print the end summary, exit 0 / 99 / 104 / 105.
import { loadProxyConfig } from '../proxy/config/load.ts';
import { parseHostPort, type HostPort } from '../proxy/config/fields.ts';
import { InvalidFileError } from '../proxy/config/problems.ts';
import { parseDuration } from '../proxy/config/units.ts';
import type { ProxyConfig } from '../proxy/config/schema.ts';
import { buildPlan, type Plan } from '../simulator/plan.ts';
import { PausableClock } from '../simulator/pausable-clock.ts';
import { defaultOutDir, runPlan } from '../simulator/run.ts';
import { checkProxyBinding, loadScenario } from '../simulator/scenario/parse.ts';
import { writeRunReports } from '../reports/files/write.ts';
import { LiveReports } from '../reports/live.ts';
import { formatSummary } from '../reports/text/summary.ts';
import { invalidInput } from './invalid-input.ts';
import { EXIT } from './exit-codes.ts';
import { BackendListenError } from '../simulator/backends.ts';
import { TargetUnreachable } from '../simulator/preflight.ts';

export interface RunCommandOptions {
  proxyConfig?: string;
  target?: string;
  targetAdmin?: string;
  backendPort?: string;
  warmup?: string;
  seed?: string;
  out?: string;
  tui?: boolean;
  lesson?: boolean;
  duration?: string;
  quiet?: boolean;
}

export function option<T>(name: string, value: string | undefined, parse: (v: string) => T | undefined, expected: string): T | undefined {
  if (value === undefined) return undefined;
  const parsed = parse(value);
  if (parsed === undefined) throw new InvalidFileError('<command line>', [{ path: `--${name}`, message: `expected ${expected}, got ${JSON.stringify(value)}` }]);
  return parsed;
}

export interface PreparedRun {
  plan: Plan;
  proxyConfig: ProxyConfig | null;
  proxyConfigFile: string | null;
  target: HostPort | undefined;
  targetAdmin: HostPort | undefined;
  backendPort: number | undefined;
  warmupMs: number | undefined;
}

/** `--backend-port N`: the first of as many consecutive ports as the scenario has backends. */
export function parseBackendPort(value: string | undefined, backends = 1): number | undefined {
  return option('backend-port', value, (v) => (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) + backends - 1 <= 65535 ? Number(v) : undefined), `a port from 1 to ${65536 - backends} (the first of ${backends} consecutive ports)`);
}

/** Everything a run needs, parsed and checked up front; throws InvalidFileError listing the problems. */
export function prepareRun(scenarioArg: string, opts: Pick<RunCommandOptions, 'proxyConfig' | 'target' | 'targetAdmin' | 'seed' | 'duration' | 'backendPort' | 'warmup'>): PreparedRun {
  const scenario = loadScenario(scenarioArg);
  const seed = option('seed', opts.seed, (v) => (/^-?\d+$/.test(v) ? Number(v) : undefined), 'an integer');
  const durationMs = option('duration', opts.duration, (v) => {
    const d = parseDuration(v);
    return d && d > 0 ? d : undefined;
  }, 'a duration like 5s');
  const target = option<HostPort>('target', opts.target, parseHostPort, 'HOST:PORT');
  const targetAdmin = option<HostPort>('target-admin', opts.targetAdmin, parseHostPort, 'HOST:PORT');
  const backendPort = parseBackendPort(opts.backendPort, scenario.backends.length);
  const warmupMs = option('warmup', opts.warmup, (v) => parseDuration(v), 'a duration like 5s');
  const proxyConfigFile = target ? null : (opts.proxyConfig ?? scenario.proxyFile);
  const proxyConfig = proxyConfigFile ? loadProxyConfig(proxyConfigFile, { use: 'run' }) : null;
  if (proxyConfig && proxyConfigFile) checkProxyBinding(proxyConfig, scenario, proxyConfigFile);
  const plan = buildPlan(scenario, { seed, durationMs });
  return { plan, proxyConfig, proxyConfigFile, target, targetAdmin, backendPort, warmupMs };
}

/** The exit code of a run that could not start (one line says why), or null for anything else. */
export function setupFailure(err: unknown): number | null {
  if (err instanceof TargetUnreachable) return EXIT.targetUnreachable;
  if (err instanceof BackendListenError) return EXIT.error;
  return null;
}

export async function runCommand(scenarioArg: string, opts: RunCommandOptions): Promise<number> {
  let prepared: PreparedRun;
  try {
    prepared = prepareRun(scenarioArg, opts);
  } catch (err) {
    return invalidInput(err);
  }

  const outDir = opts.out ?? defaultOutDir(prepared.plan.scenario.name);
  const interrupt = new AbortController();
  const write = (line: string) => process.stdout.write(line + '\n');
  const tui = opts.tui !== false && !opts.quiet && !!process.stdout.isTTY && !!process.stdin.isTTY;
  // workshop mode holds the run at its marks: the clock stops, so no actor sends anything new
  const clock = opts.lesson && tui ? new PausableClock() : undefined;
  const stop = () => {
    clock?.resume();
    interrupt.abort();
  };
  /** set while the finished run's final screen waits for q */
  let leave: (() => void) | null = null;
  const reports = new LiveReports({
    tui,
    quiet: opts.quiet,
    lesson: opts.lesson,
    write,
    controls: {
      quit: () => {
        if (leave) return leave();
        // the terminal comes back at once; the run stops and still writes its outputs
        reports.closeTui();
        process.stderr.write('attitude: interrupted, stopping\n');
        stop();
      },
      hold: () => clock?.pause(),
      release: () => clock?.resume(),
    },
  });
  const onSigint = () => {
    if (interrupt.signal.aborted) process.exit(EXIT.interrupted);
    process.stderr.write('\nattitude: interrupted, stopping (again to quit at once)\n');
    stop();
  };
  process.on('SIGINT', onSigint);
  // workshop mode without a TUI: the lesson first; the marks show up in the progress lines
  if (opts.lesson && !tui && prepared.plan.scenario.lesson) write(`\n${prepared.plan.scenario.lesson.trim().replace(/^/gm, '  ')}\n`);
  try {
    const result = await runPlan({ ...prepared, outDir, clock, signal: interrupt.signal, onBus: (bus) => reports.attach(bus) });
    // the thresholds stay on the screen (a 24-line terminal would scroll them off with the summary) until q
    if (reports.hasTui && !result.summary.interrupted) {
      await new Promise<void>((resolve) => {
        leave = resolve;
        reports.showFinal(result.summary);
      });
    }
    reports.close();
    const files = writeRunReports(outDir, result.summary, reports.model);
    write(formatSummary(result.summary, { outDir, defenses: reports.model.defenses.result(), files }));
    return result.exitCode;
  } catch (err) {
    const code = setupFailure(err);
    if (code === null) throw err;
    reports.close();
    process.stderr.write(`attitude: ${(err as Error).message}\n`);
    return code;
  } finally {
    reports.close();
    process.off('SIGINT', onSigint);
  }
}
