// `attitude validate FILE`: checks a proxy config or a scenario and lists every problem.
import { loadProxyConfig } from '../proxy/config/load.ts';
import { InvalidFileError, readYaml } from '../proxy/config/problems.ts';
import { EXIT } from './exit-codes.ts';

export type ScenarioValidator = (file: string) => void;

/** A file with `actors:` is a scenario; anything else is a proxy config. */
export function validateCommand(file: string, validateScenario?: ScenarioValidator): number {
  try {
    const data = readYaml(file) as Record<string, unknown> | null;
    const isScenario = !!data && typeof data === 'object' && ('actors' in data || 'expect' in data);
    if (isScenario) {
      if (!validateScenario) throw new Error('scenario validation is not available');
      validateScenario(file);
      process.stdout.write(`${file}: valid scenario\n`);
    } else {
      loadProxyConfig(file);
      process.stdout.write(`${file}: valid proxy config\n`);
    }
    return EXIT.ok;
  } catch (err) {
    if (err instanceof InvalidFileError) {
      process.stderr.write(err.message + '\n');
      return EXIT.invalidInput;
    }
    throw err;
  }
}
