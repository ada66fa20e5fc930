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
import { backendsCommand } from './backends-command.ts';
import { importCommand } from './import-command.ts';
import { DEFAULT_MAX_RUNS, sweepCommand } from './sweep-command.ts';
import { validateScenarioFile } from '../simulator/scenario/parse.ts';
import { DEFAULT_BACKEND_PORT } from '../simulator/backends.ts';

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
  .option('--target <host:port>', 'an external proxy to test instead: it must answer 220 within 5s (else exit 108) and relay to the mock backends')
  .option('--backend-port <n>', 'with --target: mock backends without listen: take consecutive ports from N, in scenario order', String(DEFAULT_BACKEND_PORT))
  .option('--warmup <duration>', "the mock backends up, nothing sent, this long first (default: the scenario's warmup:, else 5s with --target, 0 in-process)")
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

const AFTER_AN_INCIDENT = `
After an incident: which limits would have stopped it without delaying our own mail?
  attitude import maillog /var/log/mail.log --out yesterday.yaml   # the scenario, and yesterday.proxy.yaml as it was
  attitude run yesterday.yaml                                      # the replay, against the limits as they were
  attitude sweep yesterday.yaml --vary connections.perClient=2,5,10 --vary messages.rate=10/1m,30/1m,off
`;

program
  .command('compare')
  .description('run one scenario with the same seed against several proxy configs (or targets) and compare them side by side')
  .argument('<scenario>')
  .option('--proxy-config <file>', 'a proxy config to compare (repeat it: A, B, ...; NAME=FILE names its side)', collect)
  .option('--target <host:port>', 'an external proxy to compare (repeatable; NAME=HOST:PORT names its side)', collect)
  .option('--backend-port <n>', 'with --target: mock backends without listen: take consecutive ports from N', String(DEFAULT_BACKEND_PORT))
  .option('--warmup <duration>', 'the mock backends up, nothing sent, this long before each run')
  .option('--no-tui', 'accepted as `run` takes it (compare prints progress lines, never a TUI)')
  .option('--seed <n>', "override the scenario's seed")
  .option('--duration <duration>', "override the scenario's duration (e.g. 5s)")
  .option('--out <dir>', 'where to write each run and compare.md / compare.html (default runs/<time>-compare-<scenario>/)')
  .option('-q, --quiet', 'only the comparison')
  .action(async (scenario, opts) => {
    exitCode = await compareCommand(scenario, opts);
  });

program
  .command('backends')
  .description("keep a scenario's mock backends up (where `run --target` starts them) until Ctrl-C, to configure and check a proxy under test")
  .argument('<scenario>')
  .option('--backend-port <n>', 'mock backends without listen: take consecutive ports from N, in scenario order', String(DEFAULT_BACKEND_PORT))
  .action(async (scenario, opts) => {
    exitCode = await backendsCommand(scenario, opts);
  });

program
  .command('sweep')
  .description("search configs: run the grid of the base config with every combination of --vary values (same seed), chart the office's mail against the attack let through, and write the best config under the scenario's thresholds as best.yaml")
  .argument('<scenario>')
  .option('--vary <key=v1,v2>', 'a proxy config key path and its values, e.g. connections.perClient=2,5,10 (repeat it for more keys)', collect)
  .option('--proxy-config <file>', "the base config (default: the scenario's `proxy:`, else the built-in defaults)")
  .option('--duration <duration>', "each run's duration (default: the scenario's)")
  .option('--seed <n>', "override the scenario's seed (every run has the same)")
  .option('--max-runs <n>', 'refuse a grid of more configs than this (each takes the duration plus at most the drain)', String(DEFAULT_MAX_RUNS))
  .option('--out <dir>', 'where to write each run, sweep.md / sweep.html / sweep.json and best.yaml (default runs/<time>-sweep-<scenario>/)')
  .option('--no-tui', 'one line per run (also when stdout is not a terminal)')
  .option('-q, --quiet', 'only the table at the end')
  .addHelpText('after', AFTER_AN_INCIDENT)
  .action(async (scenario, opts) => {
    exitCode = await sweepCommand(scenario, opts);
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
  .command('import')
  .description('a scenario from what really happened: `import maillog FILE` reads a Postfix or Haraka log')
  .argument('<what>', 'maillog')
  .argument('<file>', 'the log (syslog, or Postfix\'s maillog_file)')
  .addOption(new Option('--format <format>', 'the log\'s server (default: told from the lines)').choices(['postfix', 'haraka']))
  .option('--duration <duration>', 'the run\'s duration, the log\'s timeline compressed into it (default: the log\'s span, at most 1m)')
  .option('--out <file>', 'the scenario file (default imported-<log>.yaml); the proxy config as it was goes beside it (NAME.proxy.yaml)')
  .option('--map <file>', 'also write the address map (real address, lab address, class, actor) as CSV; the scenario has no real address')
  .addHelpText('after', AFTER_AN_INCIDENT)
  .action((what, file, opts) => {
    exitCode = importCommand(what, file, opts);
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
