// The afterEach of the interop tests with a private Postfix (apart from
// postfix-server.ts, which the bench imports outside vitest).
import { afterEach } from 'vitest';
import type { Proxy } from '../../proxy/proxy.ts';
import type { PostfixServer } from './postfix-server.ts';
import type { Sink } from './postfix-tools.ts';

export interface PostfixFixture {
  proxy: Proxy | undefined;
  postfix: PostfixServer | undefined;
  sink: Sink | undefined;
}

/** The proxy, the private Postfix and the sink behind it that an interop test starts, stopped after it. */
export function postfixFixture(): PostfixFixture {
  const f: PostfixFixture = { proxy: undefined, postfix: undefined, sink: undefined };
  afterEach(async () => {
    await f.proxy?.close(500);
    await f.postfix?.stop();
    await f.sink?.stop();
    f.proxy = f.postfix = f.sink = undefined;
  });
  return f;
}
