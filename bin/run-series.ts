// Runs one after another with the same seed, each into its own folder with its own
// reports: what `compare` and `sweep` share. Ctrl-C stops the run in progress (its
// outputs are still written) and the series; a second Ctrl-C quits at once.
import path from 'node:path';
import type { CompareRun } from '../reports/compare/compare.ts';
import { writeRunReports } from '../reports/files/write.ts';
import { RunModel } from '../reports/model/run-model.ts';
import type { LedgerResult } from '../simulator/ledger.ts';
import { runPlan } from '../simulator/run.ts';
import { EXIT } from './exit-codes.ts';
import { setupFailure, type PreparedRun } from './run-command.ts';

export interface SeriesItem {
  label: string;
  /** the config file or target, in full */
  source: string;
  /** the run's folder, relative to the series' */
  dir: string;
  prepared: PreparedRun;
}

export interface SeriesHooks {
  signal: AbortSignal;
  /** before each run */
  start?(i: number, item: SeriesItem): void;
  /** after each run, its reports written; `ledger`: what the run's summary was built from */
  done?(i: number, run: CompareRun, ledger: LedgerResult): void;
}

export interface SeriesResult {
  /** every run that started, in order; the last one is interrupted when the signal aborted it */
  runs: CompareRun[];
  /** a run that could not start (a target that does not answer, a backend port in use): the series stops there */
  failure: { label: string; message: string; code: number } | null;
}

export async function runSeries(outDir: string, items: SeriesItem[], hooks: SeriesHooks): Promise<SeriesResult> {
  const runs: CompareRun[] = [];
  for (const [i, item] of items.entries()) {
    if (hooks.signal.aborted) break;
    hooks.start?.(i, item);
    const runDir = path.join(outDir, item.dir);
    // what the run's report files are drawn from
    const model = new RunModel();
    let result;
    try {
      result = await runPlan({ ...item.prepared, outDir: runDir, signal: hooks.signal, onBus: (bus) => bus.subscribe((e) => model.consume(e)) });
    } catch (err) {
      const code = setupFailure(err);
      if (code === null) throw err;
      return { runs, failure: { label: item.label, message: (err as Error).message, code } };
    }
    writeRunReports(runDir, result.summary, model);
    const run: CompareRun = { label: item.label, source: item.source, summary: result.summary, dir: item.dir };
    runs.push(run);
    hooks.done?.(i, run, result.ledger);
  }
  return { runs, failure: null };
}

/** An AbortController that SIGINT aborts (the second SIGINT exits 105 at once), until disposed. */
export function interruptOnSigint(): { signal: AbortSignal; dispose(): void } {
  const interrupt = new AbortController();
  const onSigint = () => {
    if (interrupt.signal.aborted) process.exit(EXIT.interrupted);
    process.stderr.write('\nattitude: interrupted, stopping (again to quit at once)\n');
    interrupt.abort();
  };
  process.on('SIGINT', onSigint);
  return { signal: interrupt.signal, dispose: () => process.off('SIGINT', onSigint) };
}
