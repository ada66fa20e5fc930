// The `attitude` command line (DESIGN.md "Command line").
import { Command, Option } from 'commander';
import { EXIT } from './exit-codes.ts';
import { proxyCommand } from './proxy-command.ts';
import { validateCommand } from './validate-command.ts';
import { demoCommand } from './demo-command.ts';

const program = new Command();
program
  .name('attitude')
  .description('An SMTP defense lab: a reference SMTP proxy and a simulator that replays attacks against it.')
  .showHelpAfterError()
  .exitOverride((err) => {
    // commander's own usage errors are invalid input too
    process.exit(err.exitCode === 0 ? 0 : EXIT.invalidInput);
  });

let exitCode: number = EXIT.ok;

program
  .command('proxy')
  .description('run the reference proxy')
  .requiredOption('-c, --config <file>', 'proxy config (YAML)')
  .addOption(new Option('--workers <n>', 'worker processes sharing the port (not yet: one process)'))
  .action(async (opts) => {
    exitCode = await proxyCommand(opts);
  });

program
  .command('validate')
  .description('check a proxy config or a scenario and list every problem')
  .argument('<file>')
  .action(async (file) => {
    exitCode = validateCommand(file);
  });

program
  .command('demo')
  .description('a short tour: the proxy in front of two mock mail servers, with legitimate mail and a flood')
  .action(async () => {
    exitCode = await demoCommand();
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`attitude: ${(err as Error).stack ?? err}\n`);
  exitCode = EXIT.error;
}
process.exitCode = exitCode;
