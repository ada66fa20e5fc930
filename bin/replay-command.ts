// `attitude replay RUN_DIR [--speed X]`: a recorded run through the live reports
// again (the TUI on a terminal, else progress lines), then its end summary as
// the replayed events say it. No sockets: a classroom can walk through an attack
// on a laptop without a network.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { InvalidFileError } from '../proxy/config/problems.ts';
import { LiveReports } from '../reports/live.ts';
import { readRun, recordedThresholds, replaySummary, Replayer } from '../reports/replay.ts';
import { formatSummary } from '../reports/text/summary.ts';
import type { SimEvent } from '../simulator/events.ts';
import { EXIT } from './exit-codes.ts';

export interface ReplayCommandOptions {
  speed?: string;
  tui?: boolean;
  lesson?: boolean;
  quiet?: boolean;
}

function parseSpeed(value: string | undefined): number | undefined {
  if (value === undefined) return 1;
  if (value === 'max') return Infinity;
  const n = Number(value.replace(/x$/i, ''));
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

export async function replayCommand(runDir: string, opts: ReplayCommandOptions): Promise<number> {
  const speed = parseSpeed(opts.speed);
  const problems: Array<{ path: string; message: string }> = [];
  if (speed === undefined) problems.push({ path: '--speed', message: `expected a number > 0 or "max", got ${JSON.stringify(opts.speed)}` });
  const file = runDir.endsWith('.jsonl') ? runDir : path.join(runDir, 'events.jsonl');
  let events: SimEvent[] = [];
  let dir = runDir;
  if (!existsSync(file)) problems.push({ path: '<run dir>', message: `expected a run folder with events.jsonl, found no ${file}` });
  else {
    try {
      ({ events, dir } = readRun(runDir));
      if (!events.some((e) => e.type === 'run.start')) problems.push({ path: 'events.jsonl', message: 'expected a recorded run (no run.start event)' });
    } catch (err) {
      problems.push({ path: 'events.jsonl', message: `expected one JSON event per line: ${(err as Error).message}` });
    }
  }
  if (problems.length) {
    process.stderr.write(new InvalidFileError(file, problems).message + '\n');
    return EXIT.invalidInput;
  }

  const write = (line: string) => process.stdout.write(line + '\n');
  const tui = opts.tui !== false && !opts.quiet && !!process.stdout.isTTY && !!process.stdin.isTTY;
  const replayer = new Replayer(events, { speed: speed! });
  let quit = false;
  /** set while the finished replay's last screen waits for q */
  let leave: (() => void) | null = null;
  const reports = new LiveReports({
    tui,
    quiet: opts.quiet,
    lesson: opts.lesson,
    mode: { kind: 'replay', speed: speed! },
    write,
    controls: {
      quit: () => {
        if (leave) return leave();
        quit = true;
        reports.closeTui();
        replayer.stop();
      },
      hold: () => replayer.pause(),
      release: () => replayer.resume(),
      togglePause: () => replayer.togglePause(),
      step: (unit) => replayer.step(unit),
    },
  });
  const onSigint = () => {
    quit = true;
    replayer.stop();
  };
  process.on('SIGINT', onSigint);
  try {
    reports.attach(replayer.bus);
    await replayer.start();
    // an instructor talks over the last screen, the thresholds on it: it stays until q
    if (tui && !quit) {
      const summary = replaySummary(events, recordedThresholds(dir));
      await new Promise<void>((resolve) => {
        leave = resolve;
        reports.showFinal(summary, 'the end, q to leave');
      });
    }
  } finally {
    reports.close();
    process.off('SIGINT', onSigint);
  }
  if (quit) {
    write(`replay stopped at ${(replayer.position.t / 1000).toFixed(1)}s (${replayer.position.index}/${replayer.position.total} events)`);
    return EXIT.interrupted;
  }
  const summary = replaySummary(events, recordedThresholds(dir));
  write(formatSummary(summary, { defenses: reports.model.defenses.result() }));
  write(`  replayed ${events.length} events from ${file}`);
  return EXIT.ok;
}
