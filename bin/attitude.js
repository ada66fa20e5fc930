#!/usr/bin/env node
// The `attitude` command. The code is TypeScript run through tsx, so a fresh
// `npm ci` leaves a working command without a build step.
// A SIGHUP while the TypeScript loads (systemctl reload right after start) must not
// kill a starting proxy, as SIGHUP's default action would: ignored until the proxy
// command puts its own handlers in place (bin/proxy-command.ts holdEarlySignals).
if (process.argv[2] === 'proxy') process.on('SIGHUP', () => {});

const { register } = await import('tsx/esm/api');
register();
// our own sources compile without tsx's __name wrappers (bin/ts-load.mjs)
const { register: registerHooks } = await import('node:module');
registerHooks('./ts-load.mjs', import.meta.url);
await import('./cli.ts');
