// The one registry of client connections: every admitted connection is a Session
// here from accept to close, and the limits (the global cap), /state, the metrics and
// shutdown all count from it; nobody else keeps a list of sockets or clients.
import type { Session } from './session.ts';

export class Sessions {
  private readonly all = new Set<Session>();

  /** `changed`: told the new count after every connection that comes or goes (stress mode follows it). */
  constructor(private readonly changed: (size: number) => void = () => {}) {}

  add(s: Session): void {
    this.all.add(s);
    this.changed(this.all.size);
  }

  delete(s: Session): void {
    if (this.all.delete(s)) this.changed(this.all.size);
  }

  /** Connections open now (admitting, waiting out the greet pause, or in dialogue). */
  get size(): number {
    return this.all.size;
  }

  /** Connections in an SMTP dialogue (greeted). */
  get greeted(): number {
    let n = 0;
    for (const s of this.all) if (s.phase === 'dialogue') n++;
    return n;
  }

  /** Connections holding a per-client slot of the limit store. */
  get holdingSlots(): number {
    let n = 0;
    for (const s of this.all) if (s.holdsSlot) n++;
    return n;
  }

  /** Sessions with a mail transaction open. */
  get inFlight(): number {
    let n = 0;
    for (const s of this.all) if (s.tx) n++;
    return n;
  }

  [Symbol.iterator](): IterableIterator<Session> {
    return this.all.values();
  }
}
