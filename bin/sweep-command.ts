// `attitude sweep SCENARIO --vary KEY=V1,V2 [...]`: the grid of configs (the base with
// every combination of the varied keys), each run with the same seed one after the
// other, the office's delivered share and p95 against the attack let through, the
// Pareto front, and the best config under the scenario's thresholds as best.yaml.
// Bounded: at most --max-runs configs of --duration each (plus the drain). Exit 0 with a
// best config, 99 when none passed, 104 for invalid input (before anything runs), 105
// when interrupted (what finished is written).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { InvalidFileError, type Problem } from '../proxy/config/problems.ts';
import { formatDuration } from '../proxy/config/units.ts';
import { sweepRows, ms, pct, type SweepPoint } from '../reports/sweep/sweep.ts';
import { writeSweepFiles } from '../reports/sweep/sweep-files.ts';
import { formatSweep, runLine } from '../reports/sweep/sweep-text.ts';
import { metricSource } from '../simulator/metrics.ts';
import { defaultOutDir } from '../simulator/run.ts';
import { checkProxyBinding } from '../simulator/scenario/parse.ts';
import { configWithValues } from '../simulator/sweep/best-config.ts';
import { buildGrid, type GridPoint, type Vary } from '../simulator/sweep/grid.ts';
import { EXIT } from './exit-codes.ts';
import { invalidInput } from './invalid-input.ts';
import { option, prepareRun, type PreparedRun } from './run-command.ts';
import { interruptOnSigint, runSeries, type SeriesItem } from './run-series.ts';

export interface SweepCommandOptions {
  vary?: string[];
  proxyConfig?: string;
  duration?: string;
  seed?: string;
  maxRuns?: string;
  out?: string;
  tui?: boolean;
  quiet?: boolean;
}

export const DEFAULT_MAX_RUNS = 30;

interface Prepared {
  base: PreparedRun;
  baseFile: string | null;
  baseText: string | null;
  varies: Vary[];
  points: GridPoint[];
}

function prepare(scenarioArg: string, opts: SweepCommandOptions): Prepared {
  const maxRuns = option('max-runs', opts.maxRuns, (v) => (/^\d+$/.test(v) && Number(v) >= 1 ? Number(v) : undefined), 'a count >= 1') ?? DEFAULT_MAX_RUNS;
  // the scenario, the seed, the duration and the base config, checked as `run` checks them
  const base = prepareRun(scenarioArg, { proxyConfig: opts.proxyConfig, seed: opts.seed, duration: opts.duration });
  const baseFile = base.proxyConfigFile;
  const baseText = baseFile ? readFileSync(baseFile, 'utf8') : null;
  const grid = buildGrid(opts.vary ?? [], { base: baseText ? (parseYaml(baseText) ?? {}) : {}, baseFile: baseFile ?? '<defaults>', maxRuns });
  const problems: Problem[] = [];
  for (const p of grid.points) {
    try {
      checkProxyBinding(p.config, base.plan.scenario, `--vary ${Object.entries(p.values).map(([k, v]) => `${k}=${v}`).join(', ')}`);
    } catch (err) {
      if (!(err instanceof InvalidFileError)) throw err;
      problems.push(...err.problems.map((q) => ({ path: err.file, message: `${q.path}: ${q.message}` })));
    }
  }
  if (problems.length) throw new InvalidFileError('<command line>', problems);
  return { base, baseFile, baseText, ...grid };
}

/** `03-connections.perClient=5,messages.rate=30_1m` */
function dirOf(p: GridPoint, width: number): string {
  const slug = Object.entries(p.values)
    .map(([k, v]) => `${k.split('.').pop()}=${v}`)
    .join(',')
    .replace(/[^A-Za-z0-9._,=-]+/g, '_')
    .slice(0, 80);
  return `${String(p.index).padStart(width, '0')}-${slug}`;
}

export async function sweepCommand(scenarioArg: string, opts: SweepCommandOptions): Promise<number> {
  let prep: Prepared;
  try {
    prep = prepare(scenarioArg, opts);
  } catch (err) {
    return invalidInput(err);
  }
  const { base, varies, points } = prep;
  const scenario = base.plan.scenario;
  const write = (line: string) => process.stdout.write(line + '\n');
  const progress = opts.quiet ? () => {} : write;
  const live = opts.tui !== false && !opts.quiet && !!process.stdout.isTTY;
  const outDir = opts.out ?? defaultOutDir(`sweep-${scenario.name}`);
  mkdirSync(outDir, { recursive: true });
  const keys = varies.map((v) => v.key);
  const eachMs = base.plan.durationMs + base.plan.drainMs;
  const baseLabel = prep.baseFile ?? 'the built-in defaults';
  progress(
    `attitude sweep: ${scenario.name} (seed ${base.plan.seed}, ${formatDuration(base.plan.durationMs)} each) over ${points.length} config${points.length === 1 ? "" : "s"} (${varies.map((v) => `${v.values.length} ${v.key}`).join(' x ')}) of ${baseLabel}; at most ${formatDuration(Math.ceil((points.length * eachMs) / 1000) * 1000)} (${points.length} x ${formatDuration(base.plan.durationMs)} + ${formatDuration(base.plan.drainMs)} drain)`,
  );

  const width = String(points.length).length;
  const items: SeriesItem[] = points.map((p) => {
    const dir = dirOf(p, width);
    const file = path.join(outDir, dir, 'proxy.yaml');
    mkdirSync(path.dirname(file), { recursive: true });
    const where = prep.baseFile ? { from: prep.baseFile, to: file } : undefined;
    writeFileSync(file, configWithValues(prep.baseText, varies, p.values, [`attitude sweep of ${scenario.name}, config #${p.index}: ${baseLabel} with ${Object.entries(p.values).map(([k, v]) => `${k}=${v}`).join(', ')}`], where));
    return { label: `#${p.index}`, source: file, dir, prepared: { ...base, proxyConfig: p.config, proxyConfigFile: file } };
  });

  const finished: SweepPoint[] = [];
  let ticker: NodeJS.Timeout | null = null;
  const interrupt = interruptOnSigint();
  try {
    const series = await runSeries(outDir, items, {
      signal: interrupt.signal,
      start: (i) => {
        if (!live) return;
        const t0 = Date.now();
        const label = Object.entries(points[i].values).map(([k, v]) => `${k}=${v}`).join(' ');
        const show = () => process.stdout.write(`\r\x1b[K  run ${i + 1}/${points.length}  ${label}  ${((Date.now() - t0) / 1000).toFixed(1)}s`);
        show();
        ticker = setInterval(show, 250);
      },
      done: (i, run, ledger) => {
        if (ticker) clearInterval(ticker);
        if (live) process.stdout.write('\r\x1b[K');
        const p = points[i];
        const p95 = metricSource(ledger).value('latency_p95', { kind: 'legit' });
        const point: SweepPoint = { index: p.index, values: p.values, dir: run.dir, summary: run.summary, officeP95: p95.type === 'gauge' ? p95.value : null };
        if (!run.summary.interrupted) finished.push(point);
        const [row] = sweepRows([point]);
        progress(runLine(row, points.length));
      },
    });
    if (series.failure) {
      process.stderr.write(`attitude: ${series.failure.label}: ${series.failure.message}\n`);
      return series.failure.code;
    }
  } finally {
    if (ticker) clearInterval(ticker);
    interrupt.dispose();
  }

  const interrupted = interrupt.signal.aborted;
  const rows = sweepRows(finished);
  const best = rows.find((r) => r.best) ?? null;
  let bestFile: string | null = null;
  if (best) {
    bestFile = path.join(outDir, 'best.yaml');
    writeFileSync(
      bestFile,
      configWithValues(prep.baseText, varies, best.values, [
        `attitude sweep of ${scenario.name} (seed ${base.plan.seed}): config #${best.index} of ${rows.length}${interrupted ? ` (interrupted, ${points.length} planned)` : ''},`,
        `the best under the scenario's thresholds: the office delivered ${pct(best.officeDelivered)} (p95 ${ms(best.officeP95)}), the attack got ${pct(best.attack)} through.`,
        `${baseLabel} with ${Object.entries(best.values).map(([k, v]) => `${k}=${v}`).join(', ')}. Try it: attitude run ${scenarioArg} --proxy-config ${bestFile}`,
      ], prep.baseFile ? { from: prep.baseFile, to: bestFile } : undefined),
    );
  }
  const files = writeSweepFiles(outDir, rows, { scenario: scenario.name, seed: base.plan.seed, durationMs: base.plan.durationMs, base: prep.baseFile, keys, interrupted, planned: points.length, bestFile: bestFile ? 'best.yaml' : null });
  write(formatSweep(rows, keys, `${scenario.name}  seed ${base.plan.seed}  ${formatDuration(base.plan.durationMs)} each${interrupted ? `  interrupted: ${rows.length} of ${points.length} configs ran` : ''}`));
  write('');
  write(
    best
      ? `  ★ best under the thresholds: #${best.index} ${best.label}: office ${pct(best.officeDelivered)} delivered, p95 ${ms(best.officeP95)}; attack ${pct(best.attack)} through`
      : `  ✗ no config passed every threshold${rows.length ? '' : ' (none finished)'}: no best.yaml`,
  );
  write(`    (${outDir}/: ${[...files, ...(bestFile ? ['best.yaml'] : [])].join(', ')})`);
  write('');
  if (interrupted) return EXIT.interrupted;
  return best ? EXIT.ok : EXIT.thresholdsFailed;
}
