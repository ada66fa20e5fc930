#!/usr/bin/env node
// The `attitude` command. The code is TypeScript run through tsx, so a fresh
// `npm ci` leaves a working command without a build step.
import { register } from 'tsx/esm/api';

register();
await import('./cli.ts');
