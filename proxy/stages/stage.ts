// The DATA stages (line endings, size, filters, hold-back, dot-stuffing) are plain
// synchronous steps run in order over each chunk, not a Transform stream each: a
// stream per stage per message was a tenth of the proxy's CPU on kept sessions.
// A stage refuses a message by throwing a StageFailure (stage-error.ts).

export interface Stage {
  /** Takes one chunk and appends what goes on to `out` (nothing, the chunk, or new buffers). */
  write(chunk: Buffer, out: Buffer[]): void;
  /** The message ended: appends what the stage still holds to `out`. */
  end?(out: Buffer[]): void;
}

/** Runs one chunk through every stage, or the end of the message when `chunk` is null. */
export function runStages(stages: readonly Stage[], chunk: Buffer | null): Buffer[] {
  let bufs: Buffer[] = chunk ? [chunk] : [];
  for (const stage of stages) {
    const next: Buffer[] = [];
    for (const b of bufs) stage.write(b, next);
    if (!chunk) stage.end?.(next);
    bufs = next;
  }
  return bufs;
}

/**
 * Views that lie next to each other in memory become one view: a stage that cuts a
 * chunk into lines (the header stripper) passes it on whole where it kept every line,
 * so later stages and the socket do not take it in pieces. The bytes and their order
 * are the same.
 */
export function joinAdjacent(bufs: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  let last: Buffer | undefined;
  for (const b of bufs) {
    if (b.length === 0) continue;
    if (last && last.buffer === b.buffer && last.byteOffset + last.length === b.byteOffset) {
      last = Buffer.from(last.buffer, last.byteOffset, last.length + b.length);
      out[out.length - 1] = last;
    } else {
      out.push(b);
      last = b;
    }
  }
  return out;
}
