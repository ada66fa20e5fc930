// Enforces messages.maxSize while streaming: the chunk that crosses the limit is not
// passed on and the stream fails with `message-too-large`, so the backend connection
// is dropped before it could accept the message (DESIGN.md "Size is enforced while streaming").
import type { Stage } from './stage.ts';
import { stageError } from './stage-error.ts';

export class SizeGuard implements Stage {
  /** Bytes seen so far. */
  bytes = 0;

  constructor(private readonly maxSize: number) {}

  write(chunk: Buffer, out: Buffer[]): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxSize) throw stageError('message-too-large', `limit ${this.maxSize} bytes`);
    out.push(chunk);
  }
}
