// The report consumers of one event stream, live or replayed: the run model
// (which the end summary and the report files read afterwards), and either the
// TUI or plain progress lines. Peers on the same bus; none of them drives the run.
import type { EventBus, SimEvent } from '../simulator/events.ts';
import { RunModel } from './model/run-model.ts';
import { attachProgress } from './text/progress.ts';
import { Dashboard, type DashboardControls } from './tui/dashboard.ts';
import type { HeaderState } from './tui/panels.ts';

export interface LiveReportOptions {
  /** the TUI (a terminal, no --no-tui), else plain progress lines */
  tui: boolean;
  /** no progress lines (the end summary only) */
  quiet?: boolean;
  /** workshop mode: the TUI holds at the scenario's marks */
  lesson?: boolean;
  mode?: HeaderState['mode'];
  controls: DashboardControls;
  write: (line: string) => void;
}

export class LiveReports {
  readonly model = new RunModel();
  private dashboard: Dashboard | null = null;
  private detach: Array<() => void> = [];

  constructor(private readonly o: LiveReportOptions) {}

  attach(bus: EventBus): void {
    // the model first: every other consumer reads it
    this.detach.push(bus.subscribe((e) => this.model.consume(e)));
    if (this.o.tui) {
      this.dashboard = new Dashboard({ model: this.model, mode: this.o.mode ?? { kind: 'live' }, lesson: !!this.o.lesson, controls: this.o.controls });
      const d = this.dashboard;
      this.detach.push(bus.subscribe((e: SimEvent) => d.consume(e)));
    } else if (!this.o.quiet) {
      this.detach.push(attachProgress(bus, this.o.write));
    }
  }

  get hasTui(): boolean {
    return this.dashboard !== null;
  }

  /** The final screen with the thresholds, until q (controls.quit). */
  showFinal(result: Parameters<Dashboard['showFinal']>[0], note = 'done, q to leave'): void {
    this.dashboard?.showFinal(result, note);
  }

  /** Gives the terminal back (the TUI goes); the model keeps what it saw. */
  closeTui(): void {
    this.dashboard?.destroy();
  }

  close(): void {
    this.closeTui();
    for (const d of this.detach.splice(0)) d();
  }
}
