// Writes a run's report files beside summary.json and events.jsonl.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RunSummary } from '../../simulator/summary.ts';
import type { RunModel } from '../model/run-model.ts';
import { renderReportHtml } from './report-html.ts';
import { renderReportMd } from './report-md.ts';

export const REPORT_FILES = ['report.md', 'report.html'] as const;

/** Returns the names of every file in the run folder, the simulator's included. */
export function writeRunReports(outDir: string, summary: RunSummary, model: RunModel): string[] {
  writeFileSync(path.join(outDir, 'report.md'), renderReportMd(summary, model));
  writeFileSync(path.join(outDir, 'report.html'), renderReportHtml(summary, model));
  return ['summary.json', 'events.jsonl', ...REPORT_FILES];
}
