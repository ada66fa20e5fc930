// events.jsonl: one JSON event per line, in emission order: enough to replay a run.
import { createWriteStream, type WriteStream } from 'node:fs';
import type { EventBus, SimEvent } from './events.ts';

export class Recorder {
  private stream: WriteStream;
  private unsubscribe: () => void;
  count = 0;

  constructor(file: string, bus: EventBus) {
    this.stream = createWriteStream(file, { flags: 'w' });
    this.unsubscribe = bus.subscribe((e) => this.write(e));
  }

  private write(event: SimEvent): void {
    this.count++;
    this.stream.write(JSON.stringify(event) + '\n');
  }

  close(): Promise<void> {
    this.unsubscribe();
    return new Promise((resolve, reject) => {
      this.stream.once('error', reject);
      this.stream.end(() => resolve());
    });
  }
}

/** Reads a recorded stream back (replay, tests). */
export function parseEvents(text: string): SimEvent[] {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as SimEvent);
}
