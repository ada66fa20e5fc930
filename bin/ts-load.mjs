// Node module hooks for the project's own TypeScript: compiled on load by esbuild, as
// tsx does, but without tsx's `keepNames`, which wraps every named closure in a
// defineProperty call (`__name`) each time it is created: 4 % of the proxy's CPU per
// message on kept sessions. Packages and resolution stay with tsx (registered first).
// A compiled file is cached under the system temp dir by the hash of its source and
// of the compiler's version and options, so an edited source is never served stale.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { transform, version } from 'esbuild';

const root = new URL('..', import.meta.url).href;
const OPTIONS = { loader: 'ts', format: 'esm', target: `node${process.versions.node}`, sourcemap: 'inline', minifyWhitespace: true };
const cacheDir = path.join(os.tmpdir(), `attitude-ts-${process.getuid?.() ?? 'user'}`);

export async function load(url, context, nextLoad) {
  if (!url.startsWith(root) || !url.endsWith('.ts') || url.includes('/node_modules/')) return nextLoad(url, context);
  const file = fileURLToPath(url);
  const source = await readFile(file, 'utf8');
  const key = createHash('sha256').update(`${version}\0${JSON.stringify(OPTIONS)}\0${file}\0${source}`).digest('hex');
  const cached = path.join(cacheDir, `${key}.mjs`);
  const hit = await readFile(cached, 'utf8').catch(() => null);
  if (hit !== null) return { format: 'module', source: hit, shortCircuit: true };
  const { code } = await transform(source, { ...OPTIONS, sourcefile: file });
  // written aside and renamed: a process reading the cache never sees half a file
  const temp = `${cached}.${process.pid}.tmp`;
  await mkdir(cacheDir, { recursive: true })
    .then(() => writeFile(temp, code))
    .then(() => rename(temp, cached))
    .catch(() => {});
  return { format: 'module', source: code, shortCircuit: true };
}
