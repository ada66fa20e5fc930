// The `attitude` command line (DESIGN.md "Command line").
import { Command, Option } from 'commander';
import { EXIT } from './exit-codes.ts';
import { proxyCommand } from './proxy-command.ts';
import { validateCommand } from './validate-command.ts';
import { demoCommand } from './demo-command.ts';
import { runCommand } from './run-command.ts';
import { compareCommand } from './compare-command.ts';
import { replayCommand } from './replay-command.ts';
import { scenariosCommand } from './scenarios-command.ts';
import { initCommand } from './init-command.ts';
import { validateScenarioFile } from '../simulator/scenario/parse.ts';

// `attitude scenarios | head`: a reader that has seen enough is not an error
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(EXIT.ok);
  throw err;
});

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
  .addOption(new Option('--workers <n>', 'worker processes sharing the port (default: one per core)'))
  .option('--pid-file <file>', 'write the pid of the process to signal (SIGHUP reloads, SIGTERM drains) into this file, removed at exit')
  .action(async (opts) => {
    exitCode = await proxyCommand(opts);
  });

program
  .command('validate')
  .description('check a proxy config or a scenario and list every problem')
  .argument('<file>')
  .addOption(new Option('--for <command>', 'check a proxy config as this command uses it: proxy (servers need addresses) or run (a scenario binds them)').choices(['proxy', 'run']).default('proxy'))
  .action(async (file, opts) => {
    exitCode = validateCommand(file, validateScenarioFile, opts.for);
  });

program
  .command('init')
  .description('write a commented starter proxy.yaml: an MX in front of Postfix on a loopback port, with its master.cf lines')
  .option('--out <file>', 'write it into this file (default: stdout)')
  .addOption(new Option('--postfix', "tell Postfix the client's address with XCLIENT (the default)").conflicts('proxyProtocol'))
  .addOption(new Option('--proxy-protocol', "tell Postfix the client's address with a PROXY protocol v1 header instead of XCLIENT"))
  .option('--backends <n>', 'mail servers behind the proxy: the local Postfix, then others to fill in', '1')
  .option('--force', 'overwrite --out FILE if it exists')
  .action((opts) => {
    exitCode = initCommand(opts);
  });

program
  .command('demo')
  .description('a short tour: the mixed-day scenario (every attack at once) through the reference proxy')
  .action(async () => {
    exitCode = await demoCommand();
  });

program
  .command('run')
  .description('run a scenario (a path or a catalogue name) against the proxy')
  .argument('<scenario>')
  .option('--proxy-config <file>', "proxy config for the in-process proxy (default: the scenario's `proxy:`)")
  .option('--target <host:port>', 'an external proxy to test instead (the mock backends listen where the scenario says)')
  .option('--target-admin <host:port>', "the external proxy's admin endpoint, if it is an attitude proxy (samples /state)")
  .option('--seed <n>', "override the scenario's seed")
  .option('--duration <duration>', "override the scenario's duration (e.g. 5s)")
  .option('--out <dir>', 'where to write events.jsonl and summary.json (default runs/<time>-<scenario>/)')
  .option('--no-tui', 'plain progress lines instead of the live terminal UI')
  .option('--lesson', "workshop mode: show the lesson, hold at the scenario's marks until a key (in the TUI)")
  .option('-q, --quiet', 'no progress lines, only the end summary')
  .action(async (scenario, opts) => {
    exitCode = await runCommand(scenario, opts);
  });

const collect = (value: string, previous: string[] = []) => [...previous, value];

program
  .command('compare')
  .description('run one scenario with the same seed against several proxy configs (or targets) and compare them side by side')
  .argument('<scenario>')
  .option('--proxy-config <file>', 'a proxy config to compare (repeat it: A, B, ...)', collect)
  .option('--target <host:port>', 'an external proxy to compare (repeatable)', collect)
  .option('--seed <n>', "override the scenario's seed")
  .option('--duration <duration>', "override the scenario's duration (e.g. 5s)")
  .option('--out <dir>', 'where to write each run and compare.md / compare.html (default runs/<time>-compare-<scenario>/)')
  .option('-q, --quiet', 'only the comparison')
  .action(async (scenario, opts) => {
    exitCode = await compareCommand(scenario, opts);
  });

program
  .command('replay')
  .description('replay a recorded run (its events.jsonl) in the live TUI, or as progress lines')
  .argument('<run-dir>')
  .option('--speed <x>', 'run seconds per real second (e.g. 4, 0.5), or max', '1')
  .option('--no-tui', 'plain progress lines instead of the live terminal UI')
  .option('--lesson', "workshop mode: hold at the scenario's marks")
  .option('-q, --quiet', 'no progress lines, only the end summary')
  .action(async (runDir, opts) => {
    exitCode = await replayCommand(runDir, opts);
  });

program
  .command('scenarios')
  .description('list the scenario catalogue with one-line lessons')
  .action(() => {
    exitCode = scenariosCommand();
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`attitude: ${(err as Error).stack ?? err}\n`);
  exitCode = EXIT.error;
}
process.exitCode = exitCode;
