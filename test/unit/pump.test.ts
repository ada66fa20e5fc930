// The DATA pump: stages run in order, the source waits while the backend socket is
// full, and every way a message can go wrong rejects without a final dot.
import { describe, expect, it } from 'vitest';
import { pump, type DataSink, type MessageConsumer, type MessageSource } from '../../proxy/relay/pump.ts';
import type { Stage } from '../../proxy/stages/stage.ts';
import { stageError } from '../../proxy/stages/stage-error.ts';

/** A sink that takes `room` chunks before it wants a drain; `drain()` makes room again. */
function sink(room: number) {
  const got: Buffer[] = [];
  let waiting: ((err: Error | null) => void) | null = null;
  let left = room;
  const s: DataSink & { got: Buffer[]; drain(err?: Error): void; waiting(): boolean } = {
    got,
    write(chunk) {
      got.push(chunk);
      return --left > 0;
    },
    drained(cb) {
      waiting = cb;
    },
    drain(err) {
      left = room;
      const cb = waiting;
      waiting = null;
      cb?.(err ?? null);
    },
    waiting: () => waiting !== null,
  };
  return s;
}

/** A message the test pushes into; it holds what the consumer is not ready for, as the session's reader does. */
function source() {
  let consumer: MessageConsumer | null = null;
  const queued: Array<Buffer | 'end'> = [];
  let paused = false;
  const flush = () => {
    while (consumer && queued.length && !paused) {
      const next = queued.shift()!;
      if (next === 'end') consumer.end();
      else if (!consumer.chunk(next)) paused = true;
    }
  };
  const src: MessageSource & { push(b: Buffer | null): void; fail(err: Error): void; isPaused(): boolean } = {
    read(c) {
      consumer = c;
      flush();
    },
    resume() {
      paused = false;
      flush();
    },
    push(b) {
      queued.push(b ?? 'end');
      flush();
    },
    fail: (err) => consumer?.fail(err),
    isPaused: () => paused,
  };
  return src;
}

/** A message of these chunks, complete. */
function messageOf(...chunks: string[]) {
  const src = source();
  for (const c of chunks) src.push(Buffer.from(c));
  src.push(null);
  return src;
}

/** A pump from a source the test pushes into, to a sink with room for `room` chunks. */
function pumping(room: number) {
  const src = source();
  const s = sink(room);
  return { source: src, s, done: pump(src, [], s) };
}

const tick = () => new Promise((r) => setImmediate(r));

const upper: Stage = { write: (c, out) => void out.push(Buffer.from(c.toString().toUpperCase())), end: (out) => void out.push(Buffer.from('!')) };

describe('pump', () => {
  it('runs every chunk through the stages in order and adds what they hold at the end', async () => {
    const s = sink(100);
    await pump(messageOf('ab', 'cd'), [upper], s);
    expect(Buffer.concat(s.got).toString()).toBe('ABCD!');
  });

  it('pauses the source while the sink wants a drain, and goes on after it', async () => {
    const { source, s, done } = pumping(1);
    source.push(Buffer.from('one'));
    source.push(Buffer.from('two'));
    await tick();
    expect(s.waiting()).toBe(true);
    expect(source.isPaused()).toBe(true);
    expect(Buffer.concat(s.got).toString()).toBe('one'); // 'two' waits in the source
    s.drain();
    source.push(null);
    await tick();
    if (s.waiting()) s.drain();
    await done;
    expect(Buffer.concat(s.got).toString()).toBe('onetwo');
  });

  it('rejects with the refusal of a stage and sends nothing of the refused chunk', async () => {
    const refuse: Stage = {
      write: (c, out) => {
        if (c.includes('bad')) throw stageError('spam', 'no');
        out.push(c);
      },
    };
    const s = sink(100);
    const err = await pump(messageOf('good', 'bad'), [refuse], s).catch((e) => e);
    expect(err).toMatchObject({ reason: 'spam' });
    expect(Buffer.concat(s.got).toString()).toBe('good');
  });

  it('rejects when the backend connection broke while the pump waited for a drain', async () => {
    const { source, s, done } = pumping(1);
    source.push(Buffer.from('x'));
    await tick();
    s.drain(new Error('backend closed the connection'));
    await expect(done).rejects.toThrow('backend closed the connection');
  });

  it('rejects when the client goes away before the end of the message', async () => {
    const { source, done } = pumping(100);
    source.push(Buffer.from('half a message'));
    source.fail(new Error('the client went away before the end of the message'));
    await expect(done).rejects.toThrow('went away');
  });
});
