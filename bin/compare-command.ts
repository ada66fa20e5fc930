// `attitude compare SCENARIO --proxy-config A --proxy-config B [...]` (or `--target`
// each): the same scenario with the same seed against each, one after the other,
// each into its own folder with its own reports; then the comparison in the
// terminal and in compare.md / compare.html. Exit 99 if any run failed its
// thresholds, 105 when interrupted, 104 for invalid input.
import { existsSync, mkdirSync } from 'node:fs';
import { InvalidFileError } from '../proxy/config/problems.ts';
import { compareRuns, labelsFor, type CompareRun } from '../reports/compare/compare.ts';
import { writeCompareFiles } from '../reports/compare/compare-files.ts';
import { formatCompare } from '../reports/compare/compare-text.ts';
import { defaultOutDir } from '../simulator/run.ts';
import { invalidInput } from './invalid-input.ts';
import { EXIT } from './exit-codes.ts';
import { prepareRun, type PreparedRun } from './run-command.ts';
import { interruptOnSigint, runSeries } from './run-series.ts';

export interface CompareCommandOptions {
  proxyConfig?: string[];
  target?: string[];
  seed?: string;
  duration?: string;
  backendPort?: string;
  warmup?: string;
  out?: string;
  quiet?: boolean;
  /** accepted as `run` takes it; compare never shows a TUI */
  tui?: boolean;
}

interface Side {
  proxyConfig?: string;
  target?: string;
  /** `NAME=` before the file or target: the label of its side */
  name?: string;
}

const NAMED = /^([A-Za-z][A-Za-z0-9_.-]*)=(.+)$/;

/** `strict=configs/strict.yaml`, `haproxy=127.0.0.1:2925`; a file whose name has a `=` stays a file. */
export function parseSide(kind: 'proxyConfig' | 'target', value: string): Side {
  const m = NAMED.exec(value);
  if (!m || (kind === 'proxyConfig' && existsSync(value))) return { [kind]: value };
  return { [kind]: m[2], name: m[1] };
}

export async function compareCommand(scenarioArg: string, opts: CompareCommandOptions): Promise<number> {
  const sides: Side[] = [...(opts.proxyConfig ?? []).map((v) => parseSide('proxyConfig', v)), ...(opts.target ?? []).map((v) => parseSide('target', v))];
  let prepared: PreparedRun[];
  try {
    if (sides.length < 2) throw new InvalidFileError('<command line>', [{ path: '--proxy-config / --target', message: `expected at least two to compare, got ${sides.length}` }]);
    const names = sides.flatMap((s) => (s.name ? [s.name] : []));
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice) throw new InvalidFileError('<command line>', [{ path: '--proxy-config / --target', message: `expected each NAME= once, got "${twice}" twice` }]);
    const problems: InvalidFileError[] = [];
    prepared = [];
    for (const side of sides) {
      try {
        prepared.push(prepareRun(scenarioArg, { proxyConfig: side.proxyConfig, target: side.target, seed: opts.seed, duration: opts.duration, backendPort: opts.backendPort, warmup: opts.warmup }));
      } catch (err) {
        if (!(err instanceof InvalidFileError)) throw err;
        problems.push(err);
      }
    }
    if (problems.length) {
      process.stderr.write(problems.map((p) => p.message).join('\n') + '\n');
      return EXIT.invalidInput;
    }
  } catch (err) {
    return invalidInput(err);
  }

  const write = (line: string) => process.stdout.write(line + '\n');
  const progress = opts.quiet ? () => {} : write;
  const scenario = prepared[0].plan.scenario;
  const outDir = opts.out ?? defaultOutDir(`compare-${scenario.name}`);
  mkdirSync(outDir, { recursive: true });
  const sources = sides.map((s) => s.target ?? s.proxyConfig!);
  const labels = labelsFor(sources).map((l, i) => sides[i].name ?? l);
  const interrupt = interruptOnSigint();
  let runs: CompareRun[];
  try {
    progress(`attitude compare: ${scenario.name} (seed ${prepared[0].plan.seed}, ${prepared[0].plan.durationMs / 1000}s) against ${labels.join(', ')}`);
    const items = prepared.map((p, i) => ({ label: labels[i], source: sources[i], dir: `${i + 1}-${labels[i].replace(/[^A-Za-z0-9._-]+/g, '_')}`, prepared: p }));
    const series = await runSeries(outDir, items, {
      signal: interrupt.signal,
      start: (i) => progress(`  run ${i + 1}/${prepared.length}: ${labels[i]} ...`),
      done: (_, r) => {
        const s = r.summary;
        progress(`    ${s.interrupted ? 'interrupted' : s.passed ? '✓ thresholds passed' : '✗ thresholds failed'} (${s.thresholds.filter((t) => t.ok).length}/${s.thresholds.length}), ${r.dir}/`);
      },
    });
    if (series.failure) {
      process.stderr.write(`attitude: ${series.failure.label}: ${series.failure.message}\n`);
      return series.failure.code;
    }
    runs = series.runs;
  } finally {
    interrupt.dispose();
  }
  if (interrupt.signal.aborted || runs.some((r) => r.summary.interrupted)) {
    write('compare interrupted: no comparison written');
    return EXIT.interrupted;
  }
  const rows = compareRuns(runs);
  write(formatCompare(runs, rows));
  const files = writeCompareFiles(outDir, runs, rows);
  const failed = runs.filter((r) => !r.summary.passed);
  write('');
  write(`  ${failed.length ? `✗ thresholds failed under ${failed.map((r) => r.label).join(', ')}` : '✓ every run passed its thresholds'}   (${outDir}/: ${files.join(', ')})`);
  write('');
  return failed.length ? EXIT.thresholdsFailed : EXIT.ok;
}
