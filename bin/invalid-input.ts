// The one answer to invalid input: every problem on stderr, exit 104; anything else goes on.
import { InvalidFileError } from '../proxy/config/problems.ts';
import { EXIT } from './exit-codes.ts';

export function invalidInput(err: unknown): number {
  if (!(err instanceof InvalidFileError)) throw err;
  process.stderr.write(err.message + '\n');
  return EXIT.invalidInput;
}
