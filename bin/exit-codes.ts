// k6's exit codes (DESIGN.md "Command line").
export const EXIT = {
  ok: 0,
  thresholdsFailed: 99,
  invalidInput: 104,
  interrupted: 105,
  /** the target did not answer 220 before the run (k6's code for a test aborted in its setup) */
  targetUnreachable: 108,
  /** anything unexpected: a port in use, a crash */
  error: 1,
} as const;
