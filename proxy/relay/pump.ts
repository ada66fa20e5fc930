// Streams a message through its stages into the backend with backpressure all the
// way: the client's bytes wait while the backend socket wants 'drain'. It never ends
// the sink: the final dot is the caller's to write.
import { runStages, type Stage } from '../stages/stage.ts';

/** Where the message bytes go (SmtpClient.dataSink()). */
export interface DataSink {
  /** Sends a chunk; false when the sender should wait for `drained`. Throws when the connection broke. */
  write(chunk: Buffer): boolean;
  /** Calls back once the backend takes more, with the error when the connection broke meanwhile. */
  drained(callback: (err: Error | null) => void): void;
}

/** What takes the message as it arrives. */
export interface MessageConsumer {
  /** One piece of the message (dot-unstuffed); false: the source waits until resume(). */
  chunk(bytes: Buffer): boolean;
  /** The final dot was read. */
  end(): void;
  /** The client went away (or the session was closed) before the end. */
  fail(err: Error): void;
}

/** A message coming in from a client (the session's DATA reader). */
export interface MessageSource {
  read(consumer: MessageConsumer): void;
  resume(): void;
}

/**
 * `beforeEnd`: awaited after the last chunk, before the stages give up what they hold
 * (verdicts that need the whole message and DNS, such as DMARC); a throw refuses the message.
 */
export function pump(source: MessageSource, stages: readonly Stage[], sink: DataSink, beforeEnd?: () => Promise<void>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const finish = (err?: Error | null) => {
      if (settled) return;
      settled = true;
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
    source.read({
      chunk: (bytes) => {
        // after a refusal the caller skips the rest of the message
        if (settled) return true;
        const sent = send(bytes);
        if (sent instanceof Error) {
          finish(sent);
          return true;
        }
        if (sent) return true;
        sink.drained((err) => {
          if (err) return finish(err);
          if (!settled) source.resume();
        });
        return false;
      },
      end: () => {
        const flush = () => {
          const sent = send(null);
          finish(sent instanceof Error ? sent : null);
        };
        if (!beforeEnd) return flush();
        beforeEnd().then(flush, (err: Error) => finish(err));
      },
      fail: (err) => finish(err),
    });
  });
}
