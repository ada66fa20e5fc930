// The content filters a config asks for, and the plumbing that runs them side by side
// over one message stream.
import type { ProxyConfig } from '../config/schema.ts';
import type { Stage } from '../stages/stage.ts';
import { stageError } from '../stages/stage-error.ts';
import type { ContentFilter, FilterContext, FilterRun, FilterVerdict } from './filter.ts';
import { spamFilter } from './spam.ts';
import { wormFilter } from './worm.ts';

export type { ContentFilter, FilterContext, FilterRun, FilterVerdict } from './filter.ts';

/** The built-in filters the config turns on, worm first: a cheap, certain refusal beats a score. */
export function buildFilters(config: ProxyConfig): ContentFilter[] {
  const f = config.filters;
  const filters: ContentFilter[] = [];
  if (f.blockedExtensions.length > 0 || f.eicar) {
    const { enabled, ...archives } = f.archives;
    filters.push(wormFilter({ blockedExtensions: f.blockedExtensions, eicar: f.eicar, archives: enabled ? archives : null }));
  }
  filters.push(spamFilter(f.spam));
  return filters;
}

/** One run over all filters: chunks fan out to every run; the first refusal wins, else the headers merge. */
export function runFilters(filters: readonly ContentFilter[], ctx: FilterContext): FilterRun {
  const runs = filters.map((f) => f.start(ctx));
  return {
    write(chunk) {
      for (const run of runs) run.write(chunk);
    },
    end() {
      const headers: Array<[string, string]> = [];
      for (const run of runs) {
        const verdict = run.end();
        if (verdict.action === 'refuse') return verdict;
        if (verdict.headers) headers.push(...verdict.headers);
      }
      return headers.length > 0 ? { action: 'accept', headers } : { action: 'accept' };
    },
  };
}

/**
 * The filters as a DATA stage: bytes pass through unchanged and the verdict comes at
 * the end, failing the stream on a refusal so the backend never gets the final dot.
 * A filter that throws fails the stream too (a temporary failure for the client, as
 * Haraka does with a plugin that errs). The accept headers are in `verdict` afterwards;
 * they can reach the backend only if the caller holds the message back (bounded).
 */
export class FilterStage implements Stage {
  verdict: FilterVerdict | null = null;
  private readonly run: FilterRun;

  constructor(filters: readonly ContentFilter[], ctx: FilterContext) {
    this.run = runFilters(filters, ctx);
  }

  write(chunk: Buffer, out: Buffer[]): void {
    this.run.write(chunk);
    out.push(chunk);
  }

  end(): void {
    this.verdict = this.run.end();
    if (this.verdict.action === 'refuse') throw stageError(this.verdict.reason, this.verdict.detail);
  }
}
