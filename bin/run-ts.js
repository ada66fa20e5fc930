#!/usr/bin/env node
// Runs a TypeScript file of this package (benchmarks, scripts) through tsx.
import { register } from 'tsx/esm/api';
import { register as registerHooks } from 'node:module';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

register();
// our own sources compile without tsx's __name wrappers (bin/ts-load.mjs)
registerHooks('./ts-load.mjs', import.meta.url);
const [file, ...rest] = process.argv.slice(2);
process.argv = [process.argv[0], file, ...rest];
await import(pathToFileURL(path.resolve(file)).href);
