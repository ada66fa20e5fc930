import { describe, expect, it } from 'vitest';
import { closest, editDistance, knownKeysAt } from '../../proxy/config/did-you-mean.ts';
import { parseProxyConfig } from '../../proxy/config/load.ts';
import { proxyConfigSchema } from '../../proxy/config/schema.ts';
import { parseScenario } from '../../simulator/scenario/parse.ts';
import { actorSchemas } from '../../simulator/scenario/schema.ts';
import { problems } from '../helpers/problems.ts';


const server = { name: 'mx1', address: '127.0.0.1:2601' };

describe('edit distance', () => {
  it.each([
    ['connections', 'connections', 0],
    ['conections', 'connections', 1], // a letter missing
    ['connnections', 'connections', 1], // doubled
    ['conmections', 'connections', 1], // wrong
    ['cnonections', 'connections', 1], // two swapped
    ['lsiten', 'listen', 1],
    ['', 'abc', 3],
    ['ca', 'abc', 3], // optimal string alignment: a swapped pair is not edited again
  ])('%s -> %s: %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });

  it('suggests the closest key only when it is close enough to be a typo', () => {
    expect(closest('conections', ['listen', 'connections', 'messages'])).toBe('connections');
    expect(closest('maxsize', ['maxSize', 'maxRecipients'])).toBe('maxSize');
    expect(closest('greetpuase', ['greetPause'])).toBe('greetPause');
    expect(closest('colour', ['connections', 'clients'])).toBeUndefined();
    // short words: fewer edits than half their letters
    expect(closest('tsl', ['tls', 'log'])).toBe('tls');
    expect(closest('ttl', ['tls', 'log'])).toBeUndefined();
    expect(closest('v3', ['off', 'v1', 'v2'])).toBeUndefined();
    expect(closest('user', ['users'])).toBe('users');
    expect(closest('tpyo', ['type'])).toBeUndefined();
  });
});

describe('known keys from the schema', () => {
  it('looks through defaults, arrays, nullable objects and unions', () => {
    expect(knownKeysAt(proxyConfigSchema, [])).toContain('connections');
    expect(knownKeysAt(proxyConfigSchema, ['backends', 'servers', 0])).toEqual(['name', 'address', 'weight', 'maxConnections', 'xclient', 'proxyProtocol']);
    expect(knownKeysAt(proxyConfigSchema, ['relay', 'auth'])).toEqual(['users', 'allowPlaintext']);
    expect(knownKeysAt(actorSchemas.legit, ['arrival'])).toEqual(['type', 'rate', 'from', 'stages', 'every', 'size', 'spread', 'bucket', 'counts']);
    expect(knownKeysAt(proxyConfigSchema, ['listen'])).toEqual([]);
    expect(knownKeysAt(proxyConfigSchema, ['nowhere', 'at', 'all'])).toEqual([]);
  });
});

describe('did you mean, in the problems of a file', () => {
  it('suggests keys of the proxy config at every depth, and still lists every problem', () => {
    expect(
      problems(() =>
        parseProxyConfig({
          conections: { max: 10 },
          messages: { maxsize: '1MB', rcptRate: '1/s' },
          relay: { auth: { user: {} } },
          backends: { stratgey: 'weighted', servers: [{ ...server, adress: '127.0.0.1:1' }] },
          listen: 'nowhere',
        }),
      ),
    ).toEqual([
      'listen: expected HOST:PORT like 127.0.0.1:2525, got "nowhere"',
      'relay.auth.user: unknown key (did you mean users?)',
      'messages.maxsize: unknown key (did you mean maxSize?)',
      'messages.rcptRate: unknown key',
      'backends.servers[0].adress: unknown key (did you mean address?)',
      'backends.stratgey: unknown key (did you mean strategy?)',
      'conections: unknown key (did you mean connections?)',
    ]);
  });

  it('suggests an allowed value for a mistyped one', () => {
    expect(problems(() => parseProxyConfig({ backends: { strategy: 'round-robbin', servers: [server] } }))).toEqual([
      'backends.strategy: expected one of "round-robin", "weighted", "least-connections", "hash-sender", "hash-client", got "round-robbin" (did you mean round-robin?)',
    ]);
  });

  it('suggests keys and actor kinds of a scenario', () => {
    const found = problems(() =>
      parseScenario({
        name: 'x',
        duration: '10s',
        backend: [{ name: 'mx1' }],
        backends: [{ name: 'mx1', latncy: '1ms' }],
        actors: [
          { name: 'office', kind: 'legit', rate: '1/s', retry: { atfer: '1s' }, recipeints: 2 },
          { name: 'bots', kind: 'spamer' },
          { name: 'hold', kind: 'flood', connection: 10 },
        ],
      }),
    );
    expect(found).toEqual(
      expect.arrayContaining([
        'backend: unknown key (did you mean backends?)',
        'backends[0].latncy: unknown key (did you mean latency?)',
        'actors[0].retry.atfer: unknown key (did you mean after?)',
        'actors[0].recipeints: unknown key (did you mean recipients?)',
        'actors[1].kind: expected one of legit, spammer, worm, spoofer, flood, slowloris, early-talker, relay-prober, smuggler, got "spamer" (did you mean spammer?)',
        'actors[2].connection: unknown key (did you mean connections?)',
      ]),
    );
  });
});
