// The problems a refused config or scenario lists, as `key.path: message` lines.
import { InvalidFileError } from '../../proxy/config/problems.ts';

export function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof InvalidFileError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
  throw new Error('expected the file to be refused');
}
