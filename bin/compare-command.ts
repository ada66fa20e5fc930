// `attitude compare SCENARIO --proxy-config A --proxy-config B [...]` (or `--target`
// each): the same scenario with the same seed against each, one after the other,
// each into its own folder with its own reports; then the comparison in the
// terminal and in compare.md / compare.html. Exit 99 if any run failed its
// thresholds, 105 when interrupted, 104 for invalid input.
import { mkdirSync } from 'node:fs';
import { InvalidFileError } from '../proxy/config/problems.ts';
import { compareRuns, labelsFor, type CompareRun } from '../reports/compare/compare.ts';
import { writeCompareFiles } from '../reports/compare/compare-files.ts';
import { formatCompare } from '../reports/compare/compare-text.ts';
import { defaultOutDir } from '../simulator/run.ts';
import { EXIT } from './exit-codes.ts';
import { prepareRun, type PreparedRun } from './run-command.ts';
import { interruptOnSigint, runSeries } from './run-series.ts';

export interface CompareCommandOptions {
  proxyConfig?: string[];
  target?: string[];
  seed?: string;
  duration?: string;
  out?: string;
  quiet?: boolean;
}

export async function compareCommand(scenarioArg: string, opts: CompareCommandOptions): Promise<number> {
  const sides = [...(opts.proxyConfig ?? []).map((file) => ({ proxyConfig: file })), ...(opts.target ?? []).map((target) => ({ target }))];
  let prepared: PreparedRun[];
  try {
    if (sides.length < 2) throw new InvalidFileError('<command line>', [{ path: '--proxy-config / --target', message: `expected at least two to compare, got ${sides.length}` }]);
    const problems: InvalidFileError[] = [];
    prepared = [];
    for (const side of sides) {
      try {
        prepared.push(prepareRun(scenarioArg, { ...side, seed: opts.seed, duration: opts.duration }));
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
    if (err instanceof InvalidFileError) {
      process.stderr.write(err.message + '\n');
      return EXIT.invalidInput;
    }
    throw err;
  }

  const write = (line: string) => process.stdout.write(line + '\n');
  const progress = opts.quiet ? () => {} : write;
  const scenario = prepared[0].plan.scenario;
  const outDir = opts.out ?? defaultOutDir(`compare-${scenario.name}`);
  mkdirSync(outDir, { recursive: true });
  const sources = sides.map((s) => ('target' in s ? s.target! : s.proxyConfig!));
  const labels = labelsFor(sources);
  const interrupt = interruptOnSigint();
  let runs: CompareRun[];
  try {
    progress(`attitude compare: ${scenario.name} (seed ${prepared[0].plan.seed}, ${prepared[0].plan.durationMs / 1000}s) against ${labels.join(', ')}`);
    const items = prepared.map((p, i) => ({ label: labels[i], source: sources[i], dir: `${i + 1}-${labels[i].replace(/[^A-Za-z0-9._-]+/g, '_')}`, prepared: p }));
    runs = await runSeries(outDir, items, {
      signal: interrupt.signal,
      write,
      start: (i) => progress(`  run ${i + 1}/${prepared.length}: ${labels[i]} ...`),
      done: (_, r) => {
        const s = r.summary;
        progress(`    ${s.interrupted ? 'interrupted' : s.passed ? '✓ thresholds passed' : '✗ thresholds failed'} (${s.thresholds.filter((t) => t.ok).length}/${s.thresholds.length}), ${r.dir}/`);
      },
    });
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
