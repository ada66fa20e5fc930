// The DATA pump: stages run in order, the source waits while the backend socket is
// full, and every way a message can go wrong rejects without a final dot.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { pump, type DataSink } from '../../proxy/relay/pump.ts';
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

/** A pump from a source the test pushes into, to a sink with room for `room` chunks. */
function pumping(room: number) {
  const source = new Readable({ read() {} });
  const s = sink(room);
  return { source, s, done: pump(source, [], s) };
}

const tick = () => new Promise((r) => setImmediate(r));

const upper: Stage = { write: (c, out) => void out.push(Buffer.from(c.toString().toUpperCase())), end: (out) => void out.push(Buffer.from('!')) };

describe('pump', () => {
  it('runs every chunk through the stages in order and adds what they hold at the end', async () => {
    const s = sink(100);
    await pump(Readable.from([Buffer.from('ab'), Buffer.from('cd')]), [upper], s);
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
    const err = await pump(Readable.from([Buffer.from('good'), Buffer.from('bad')]), [refuse], s).catch((e) => e);
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
    source.destroy();
    await expect(done).rejects.toThrow('went away');
  });
});
