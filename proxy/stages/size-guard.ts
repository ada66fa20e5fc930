// Enforces messages.maxSize while streaming: the chunk that crosses the limit is not
// passed on and the stream fails with `message-too-large`, so the backend connection
// is dropped before it could accept the message (DESIGN.md "Size is enforced while streaming").
import { Transform, type TransformCallback } from 'node:stream';
import { stageError } from './stage-error.ts';

export class SizeGuard extends Transform {
  /** Bytes seen so far. */
  bytes = 0;

  constructor(private readonly maxSize: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxSize) return callback(stageError('message-too-large', `limit ${this.maxSize} bytes`));
    callback(null, chunk);
  }
}
