// The attack that really happened, replayed: a private Postfix (postscreen's pregreet
// test in front of smtpd, anvil's per-client connection and message limits,
// reject_unauth_destination) takes the simulator's traffic (an office, spammers, a
// connection flood, a relay prober, early talkers), its maillog_file is imported, and
// the imported scenario run against attitude with the proxy config as it was does what
// the log says each kind of client did, within 10 %.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadProxyConfig } from '../../proxy/config/load.ts';
import { buildImport } from '../../simulator/import/build.ts';
import { classify } from '../../simulator/import/classify.ts';
import { countsOfRun, type Counts } from '../../simulator/import/counts.ts';
import { readPostfixLog } from '../../simulator/import/postfix.ts';
import { writeImport } from '../../simulator/import/write.ts';
import { buildPlan } from '../../simulator/plan.ts';
import { runPlan } from '../../simulator/run.ts';
import { loadScenario, parseScenario } from '../../simulator/scenario/parse.ts';
import { canRunPostfix, MASTER_CF, postfixOrSkip } from '../helpers/postfix-server.ts';
import { freePort, toolsMissing } from '../helpers/postfix-tools.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'attitude-import-postfix-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The limits of the real server whose log is imported. */
const MAIN_CF = [
  'smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination',
  'anvil_rate_time_unit = 60s',
  'smtpd_client_connection_count_limit = 5',
  'smtpd_client_message_rate_limit = 6',
  // postscreen: the pregreet test, and the same per-client cap in front of smtpd
  'postscreen_greet_wait = 1s',
  'postscreen_greet_action = drop',
  'postscreen_access_list = permit_mynetworks',
  'postscreen_cache_map = btree:$data_directory/postscreen_cache',
  'postscreen_dnsbl_action = ignore',
  // a lab's queue: retries within seconds
  'queue_run_delay = 1s',
  'minimal_backoff_time = 1s',
  'maximal_backoff_time = 4s',
];

const within = (got: number, want: number, share = 0.1) => Math.abs(got - want) <= Math.max(1, want * share);

describe.skipIf(toolsMissing('postfix') || !canRunPostfix())('a Postfix log imported and replayed', () => {
  it('reproduces what each kind of client did, within 10 %', async (ctx) => {
    const backendPort = await freePort();
    const postfix = await postfixOrSkip(ctx, `127.0.0.1:${backendPort}`, {
      mainCf: MAIN_CF,
      masterCf: (port) => `127.0.0.1:${port} inet n - n - 1 postscreen\nsmtpd pass - - n - - smtpd\n${MASTER_CF}`,
    });
    let log: string;
    try {
      const yesterday = parseScenario({
        name: 'yesterday',
        seed: 5,
        duration: '4s',
        drain: '6s',
        backends: [{ name: 'mx1', listen: `127.0.0.1:${backendPort}` }],
        actors: [
          // the office stays under the limits, the spammers run into the message rate
          { name: 'office', kind: 'legit', clients: 4, rate: '2/s', recipients: '1..2', retry: { after: '500ms', max: 4 } },
          { name: 'spam', kind: 'spammer', clients: 2, rate: '5/s', recipients: '10..20', start: '500ms' },
          { name: 'hog', kind: 'flood', clients: 1, connections: 10, hold: '2500ms', start: '500ms' },
          { name: 'probe', kind: 'relay-prober', clients: 1, rate: '1/s', tricks: ['outside-sender', 'percent-hack'] },
          { name: 'talk', kind: 'early-talker', clients: 2, rate: '2/s' },
        ],
      });
      const original = await runPlan({ plan: buildPlan(yesterday), target: { host: '127.0.0.1', port: postfix.port }, outDir: path.join(tmp, 'yesterday') });
      expect(original.summary.actors.office.messages.delivered).toBeGreaterThan(5);
      log = postfix.log();
      // KEEP_LOG=FILE keeps Postfix's log, to look at it or to import it by hand
      if (process.env.KEEP_LOG) writeFileSync(process.env.KEEP_LOG, log);
    } finally {
      await postfix.stop();
    }

    // the import, as `attitude import maillog` does it
    const observation = readPostfixLog(log);
    const classes = new Set(classify(observation).map((r) => r.class));
    for (const c of ['legit', 'spammer', 'flood', 'relay-prober', 'early-talker']) expect(classes, c).toContain(c);
    const imported = buildImport(observation, { name: 'imported', source: 'maillog', proxyFile: 'imported.proxy.yaml', scenarioFile: 'imported.yaml' });
    const file = path.join(tmp, 'imported.yaml');
    writeImport(imported, { scenario: file, proxy: path.join(tmp, 'imported.proxy.yaml') }, 'maillog');
    const scenario = loadScenario(file);
    expect(loadProxyConfig(scenario.proxyFile!, { use: 'run' }).connections.perClient).toBe(5);

    const replay = await runPlan({ plan: buildPlan(scenario), proxyConfig: loadProxyConfig(scenario.proxyFile!, { use: 'run' }), proxyConfigFile: scenario.proxyFile, outDir: path.join(tmp, 'replay') });
    const was: Counts = imported.counts;
    const now = countsOfRun(replay.summary);
    const table = Object.keys(was).map((k) => `${k}: log ${JSON.stringify(was[k as keyof Counts])} replay ${JSON.stringify(now[k as keyof Counts])}`).join('\n');
    // every kind made as many attempts as the log says (messages, relay tries, connections)
    for (const kind of Object.keys(was) as Array<keyof Counts>) expect(within(now[kind]!.attempts, was[kind]!.attempts), `${kind} attempts\n${table}`).toBe(true);
    // the office's mail got through as it did, the spam was accepted as often, no relay try, no early talker let in
    expect(within(now.legit!.delivered, was.legit!.delivered), table).toBe(true);
    expect(within(now.spammer!.accepted, was.spammer!.accepted), table).toBe(true);
    expect(now['relay-prober']!.accepted).toBe(0);
    expect(within(now['early-talker']!.refusedConnections, was['early-talker']!.refusedConnections), table).toBe(true);
    // the flood was refused most of the time in both; how often exactly depends on the timing of the
    // defense in front (postscreen holds every new connection for its greet test first)
    for (const c of [was.flood!, now.flood!]) expect(c.refusedConnections, table).toBeGreaterThan(0.4 * c.attempts);
    expect(replay.summary.ledger.lost).toBe(0);
  }, 90_000);
});
