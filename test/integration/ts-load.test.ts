// bin/ts-load.mjs compiles the project's own TypeScript on load, as a user's
// `npx attitude` and `node bin/run-ts.js` run it: without tsx's __name wrappers, with
// stack traces that point into the .ts source, and never from a stale cache after
// the source changed.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const RUN_TS = path.join(ROOT, 'bin/run-ts.js');
const dirs: string[] = [];

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A TypeScript file inside the package (the loader only compiles the project's own). */
function source(text: string): string {
  const dir = mkdtempSync(path.join(ROOT, 'test/.ts-load-'));
  dirs.push(dir);
  const file = path.join(dir, 'probe.ts');
  writeFileSync(file, text);
  return file;
}

const run = (file: string) => execFileSync(process.execPath, [RUN_TS, file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('the TypeScript loader', () => {
  it('compiles named closures without __name wrappers, and an edited file is compiled again', () => {
    const probe = (n: number) => `
      function outer(): () => number {
        const inner = (): number => ${n};
        return inner;
      }
      const f = outer();
      console.log(JSON.stringify({ value: f(), name: f.name, wrapped: outer.toString().includes('__name') }));
    `;
    const file = source(probe(1));
    expect(JSON.parse(run(file))).toEqual({ value: 1, name: 'inner', wrapped: false });
    // the same file again (served from the cache), then edited: the new source runs
    expect(JSON.parse(run(file)).value).toBe(1);
    writeFileSync(file, probe(2));
    expect(JSON.parse(run(file)).value).toBe(2);
  });

  it('points stack traces at the line of the .ts source', () => {
    const file = source(['type Unused = { a: number };', '', 'function fail(): never {', "  throw new Error('probe');", '}', 'try { fail(); } catch (err) { console.log((err as Error).stack); }', ''].join('\n'));
    expect(run(file)).toContain(`${file}:4:`);
  });
});
