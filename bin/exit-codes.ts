// k6's exit codes (DESIGN.md "Command line").
export const EXIT = {
  ok: 0,
  thresholdsFailed: 99,
  invalidInput: 104,
  interrupted: 105,
  /** anything unexpected: a port in use, a crash */
  error: 1,
} as const;
