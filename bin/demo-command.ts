// `npm run demo`: the main job on built-in defaults. The mixed-day scenario
// (legitimate mail, spam, a worm, a flood, scanners, smugglers, early talkers and
// a backend outage at once) through the reference proxy with the reference
// defenses, shown live on a terminal, with the report files at the end.
import { runCommand } from './run-command.ts';

export const DEMO_SCENARIO = 'mixed-day';

export async function demoCommand(): Promise<number> {
  process.stdout.write(
    `attitude demo: the ${DEMO_SCENARIO} scenario against the reference proxy (scenarios/configs/default.yaml).\n` +
      `Try next: attitude scenarios, attitude run spam-flood --proxy-config scenarios/configs/open.yaml\n\n`,
  );
  return runCommand(DEMO_SCENARIO, {});
}
