// `attitude backends SCENARIO [--backend-port N]`: the scenario's mock backends, up
// where `run --target` will start them, until Ctrl-C. A user configures the proxy
// under test to relay to them and checks it (swaks through the proxy, its health
// checks) before spending a run on it.
import { InvalidFileError } from '../proxy/config/problems.ts';
import { BackendFarm, backendAddresses, DEFAULT_BACKEND_PORT, formatAddresses } from '../simulator/backends.ts';
import { EventBus } from '../simulator/events.ts';
import { loadScenario } from '../simulator/scenario/parse.ts';
import { invalidInput } from './invalid-input.ts';
import { EXIT } from './exit-codes.ts';
import { parseBackendPort, setupFailure } from './run-command.ts';

export interface BackendsCommandOptions {
  backendPort?: string;
}

export async function backendsCommand(scenarioArg: string, opts: BackendsCommandOptions): Promise<number> {
  let farm: BackendFarm;
  let base: number;
  try {
    const scenario = loadScenario(scenarioArg);
    base = parseBackendPort(opts.backendPort, scenario.backends.length) ?? DEFAULT_BACKEND_PORT;
    const write = (line: string) => process.stdout.write(line + '\n');
    const bus = new EventBus(() => 0);
    const checked = new Set<string>();
    bus.subscribe((e) => {
      if (e.type === 'backend.received') write(`  ${e.backend}: received a message${e.id ? ` (${e.id})` : ''} from ${e.client}, ${e.recipients} recipient${e.recipients === 1 ? '' : 's'}, ${e.size} bytes`);
      else if (e.type === 'backend.closed' && e.mail === false && !checked.has(e.backend)) {
        // a target's health checks come every few seconds: the first one is news, the rest is noise
        checked.add(e.backend);
        write(`  ${e.backend}: a connection without mail (a health check?); more are counted, not shown`);
      }
    });
    farm = new BackendFarm(scenario.backends, scenario.seed, bus);
    await farm.start(backendAddresses(scenario.backends, base));
    write(`attitude backends: ${scenario.name}'s mock backends are up: ${formatAddresses(farm.mocks)}`);
    write('  configure the proxy under test to relay to them, then Ctrl-C stops them');
  } catch (err) {
    if (err instanceof InvalidFileError) return invalidInput(err);
    const code = setupFailure(err);
    if (code === null) throw err;
    process.stderr.write(`attitude: ${(err as Error).message}\n`);
    return code;
  }
  await untilSignal();
  await farm.stop();
  const received = farm.mocks.reduce((n, m) => n + m.received.length, 0);
  process.stdout.write(`attitude backends: stopped (${received} message${received === 1 ? '' : 's'} received)\n`);
  return EXIT.ok;
}

/** Ctrl-C or SIGTERM: the normal way to stop this command. */
function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}
