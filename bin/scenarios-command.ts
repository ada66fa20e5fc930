// `attitude scenarios`: the catalogue with one-line lessons.
import { InvalidFileError } from '../proxy/config/problems.ts';
import { catalogueNames, loadScenario } from '../simulator/scenario/parse.ts';
import { EXIT } from './exit-codes.ts';

/** The description (one line for listings), or the lesson's first sentence. */
function oneLine(description: string, lesson: string): string {
  const text = description.trim() || (/^[^.]*\./.exec(lesson.trim().replace(/\s+/g, ' '))?.[0] ?? '');
  return text.length > 110 ? text.slice(0, 107) + '...' : text;
}

export function scenariosCommand(): number {
  const names = catalogueNames();
  const width = Math.max(...names.map((n) => n.length), 8);
  let bad = 0;
  for (const name of names) {
    try {
      const s = loadScenario(name);
      process.stdout.write(`${name.padEnd(width)}  ${(s.duration / 1000).toString().padStart(3)}s  ${oneLine(s.description, s.lesson)}\n`);
    } catch (err) {
      if (!(err instanceof InvalidFileError)) throw err;
      bad++;
      process.stdout.write(`${name.padEnd(width)}  (invalid: ${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}, see \`attitude validate\`)\n`);
    }
  }
  process.stdout.write(`\nrun one: attitude run NAME [--proxy-config FILE] [--seed N] [--duration 5s]\n`);
  return bad ? EXIT.invalidInput : EXIT.ok;
}
