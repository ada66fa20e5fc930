// `attitude validate FILE [--for proxy|run]`: checks a proxy config or a scenario and
// lists every problem, with the same validation as the command that will use the file.
import { loadProxyConfig, type ConfigUse } from '../proxy/config/load.ts';
import { InvalidFileError, readYaml } from '../proxy/config/problems.ts';
import { EXIT } from './exit-codes.ts';

export type ScenarioValidator = (file: string) => void;

const COMMAND: Record<ConfigUse, string> = { proxy: 'attitude proxy', run: 'attitude run' };

/** A file with `actors:` is a scenario; anything else is a proxy config, checked for `use`. */
export function validateCommand(file: string, validateScenario?: ScenarioValidator, use: ConfigUse = 'proxy'): number {
  try {
    const data = readYaml(file) as Record<string, unknown> | null;
    const isScenario = !!data && typeof data === 'object' && ('actors' in data || 'expect' in data);
    if (isScenario) {
      if (!validateScenario) throw new Error('scenario validation is not available');
      validateScenario(file);
      process.stdout.write(`${file}: valid scenario\n`);
    } else {
      loadProxyConfig(file, { use });
      process.stdout.write(`${file}: valid proxy config for ${COMMAND[use]}\n`);
    }
    return EXIT.ok;
  } catch (err) {
    if (err instanceof InvalidFileError) {
      process.stderr.write(err.message + '\n');
      if (use === 'proxy' && validFor(file, 'run')) {
        process.stderr.write(`(as a scenario's proxy config, whose servers are the mock backends, it is valid: attitude validate --for run ${file})\n`);
      }
      return EXIT.invalidInput;
    }
    throw err;
  }
}

function validFor(file: string, use: ConfigUse): boolean {
  try {
    loadProxyConfig(file, { use });
    return true;
  } catch {
    return false;
  }
}
