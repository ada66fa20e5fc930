// Which kind of server the run's target is, from the banner it answered the
// preflight with, so the reports can say the target's own names for a defense.
// A banner of one of the scenario's mock backends means the target relays the
// TCP connection itself (HAProxy, nginx stream): a proxy that speaks no SMTP.

export type TargetKind = 'attitude' | 'postfix' | 'haraka' | 'haproxy' | 'unknown';

export function targetKind(banner: string | null, inProcess = false): TargetKind {
  if (inProcess) return 'attitude';
  if (!banner) return 'unknown';
  if (/\bESMTP attitude\b/.test(banner)) return 'attitude';
  if (/\bPostfix\b/i.test(banner)) return 'postfix';
  if (/\bHaraka\b/i.test(banner)) return 'haraka';
  // the mock backends greet as NAME.mock.test: nothing in between spoke SMTP
  if (/\.mock\.test\b/.test(banner)) return 'haproxy';
  return 'unknown';
}

/** How the reports name a kind of target. */
export const TARGET_LABEL: Record<TargetKind, string> = {
  attitude: 'attitude',
  postfix: 'Postfix',
  haraka: 'Haraka',
  haproxy: 'a TCP proxy (HAProxy or alike: the mock backends answered through it)',
  unknown: 'another SMTP server',
};
