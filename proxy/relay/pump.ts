// Streams a message through its stages into the backend with backpressure all the
// way: the source pauses while the backend socket wants 'drain'. It never ends the
// sink: the final dot is the caller's to write.
import type { Readable } from 'node:stream';
import { runStages, type Stage } from '../stages/stage.ts';

/** Where the message bytes go (SmtpClient.dataSink()). */
export interface DataSink {
  /** Sends a chunk; false when the sender should wait for `drained`. Throws when the connection broke. */
  write(chunk: Buffer): boolean;
  /** Calls back once the backend takes more, with the error when the connection broke meanwhile. */
  drained(callback: (err: Error | null) => void): void;
}

export function pump(source: Readable, stages: readonly Stage[], sink: DataSink): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const finish = (err?: Error | null) => {
      if (settled) return;
      settled = true;
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', finish);
      source.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    /** Runs a chunk (or the end, null) through the stages into the sink; false when it must wait. */
    const send = (chunk: Buffer | null): boolean | Error => {
      try {
        let more = true;
        for (const b of runStages(stages, chunk)) more = sink.write(b) && more;
        return more;
      } catch (err) {
        return err as Error;
      }
    };
    const onData = (chunk: Buffer) => {
      const sent = send(chunk);
      if (sent instanceof Error) return finish(sent);
      if (sent) return;
      source.pause();
      sink.drained((err) => {
        if (err) return finish(err);
        if (!settled) source.resume();
      });
    };
    const onEnd = () => {
      const sent = send(null);
      finish(sent instanceof Error ? sent : null);
    };
    // a source that closes without ending (client gone) is an error, not a message
    const onClose = () => {
      if (!source.readableEnded) finish(new Error('the client went away before the end of the message'));
    };
    source.on('error', finish);
    source.on('close', onClose);
    source.on('end', onEnd);
    source.on('data', onData);
  });
}
