// The live terminal UI (blessed + blessed-contrib): header, actor table, gauges,
// charts, a log of notable events, and overlays for the lesson, the help and the
// marks of workshop mode. A consumer of the event stream: it reads the run model
// and redraws on a timer (a few frames a second), never per event, so a flood of
// events neither flickers nor slows the run.
import blessed from 'blessed';
import contrib from 'blessed-contrib';
import type { SimEvent } from '../../simulator/events.ts';
import { liveCharts } from '../model/charts.ts';
import type { RunModel } from '../model/run-model.ts';
import { layout, type Rect } from './layout.ts';
import { lessonNotesFor } from '../model/lesson.ts';
import type { ThresholdResult } from '../../simulator/thresholds.ts';
import { actorTable, chartLabel, escapeTags, finalLines, gaugeLines, headerLines, HELP, lessonText, lineData, logLines, type HeaderState } from './panels.ts';

export interface DashboardControls {
  /** q or Ctrl-C */
  quit(): void;
  /** workshop mode: hold the run (or replay) at a mark, and let it go on */
  hold?(): void;
  release?(): void;
  /** a replay pauses itself with `p` (a live run only pauses the display); returns whether it is paused now */
  togglePause?(): boolean;
  /** a paused replay steps one second or one event */
  step?(unit: 'second' | 'event'): void;
}

export interface DashboardOptions {
  model: RunModel;
  mode: HeaderState['mode'];
  /** workshop mode: hold at the scenario's marks until a key */
  lesson: boolean;
  controls: DashboardControls;
  fps?: number;
  /** seconds of history the charts show */
  window?: number;
}

type Line = ReturnType<typeof contrib.line>;

export class Dashboard {
  private screen: blessed.Widgets.Screen;
  private header: blessed.Widgets.BoxElement;
  private actors: blessed.Widgets.BoxElement;
  private gauges: blessed.Widgets.BoxElement;
  private log: blessed.Widgets.BoxElement;
  private lessonBox: blessed.Widgets.BoxElement;
  private helpBox: blessed.Widgets.BoxElement;
  private markBox: blessed.Widgets.BoxElement;
  private finalBox: blessed.Widgets.BoxElement;
  /** the clock a paused display shows (the run's time when the display was paused) */
  private frozenAt: number | null = null;
  /** workshop mode holds before any traffic, with the lesson up, until space */
  private heldAtStart = false;
  private lessonFor = '';
  private charts: Array<{ widget: Line; rect: Rect }> = [];
  private chartOffset = 0;
  private timer: NodeJS.Timeout;
  private displayPaused = false;
  private replayPaused = false;
  private held: string | null = null;
  private note: string | null = null;
  private destroyed = false;
  private readonly model: RunModel;

  constructor(private readonly o: DashboardOptions) {
    this.model = o.model;
    this.screen = blessed.screen({ smartCSR: true, fullUnicode: true, title: 'attitude', warnings: false, autoPadding: true });
    const box = (opts: blessed.Widgets.BoxOptions) => {
      // the panels fit their lines to the width themselves: blessed's wrapping would push lines off the bottom
      const b = blessed.box({ tags: true, wrap: false, ...opts } as blessed.Widgets.BoxOptions);
      this.screen.append(b);
      return b;
    };
    this.header = box({ style: { fg: 'white', bg: 'blue' } });
    this.actors = box({ border: { type: 'line' }, label: ' actors ', tags: false });
    this.gauges = box({ border: { type: 'line' }, label: ' connections ' });
    this.log = box({ border: { type: 'line' }, label: ' events ' });
    const overlay = (label: string, color: string, width: string | number, height: string | number) =>
      box({ wrap: true, hidden: true, border: { type: 'line' }, label, top: 'center', left: 'center', width, height, scrollable: true, alwaysScroll: true, style: { border: { fg: color }, bg: 'black' } });
    this.lessonBox = overlay(' lesson (l to close) ', 'cyan', '80%', '70%');
    this.helpBox = overlay(' help (? to close) ', 'white', 56, HELP.length + 2);
    // small, so the dashboard stays in view while the class predicts
    this.markBox = overlay(' mark ', 'yellow', '60%', 10);
    this.finalBox = overlay(' the end (q to leave) ', 'green', '80%', '70%');
    this.helpBox.setContent(HELP.join('\n'));

    this.screen.key(['q', 'C-c'], () => o.controls.quit());
    this.screen.key(['p'], () => {
      if (o.controls.togglePause) this.replayPaused = o.controls.togglePause();
      else {
        this.displayPaused = !this.displayPaused;
        // the whole display stands still, its clock too
        this.frozenAt = this.displayPaused ? this.model.now : null;
      }
      this.draw(!this.displayPaused);
    });
    this.screen.key(['l'], () => this.toggle(this.lessonBox));
    this.screen.key(['?'], () => this.toggle(this.helpBox));
    this.screen.key(['c'], () => {
      this.chartOffset++;
      this.draw(false);
    });
    this.screen.key(['n'], () => this.replayPaused && o.controls.step?.('second'));
    this.screen.key(['e'], () => this.replayPaused && o.controls.step?.('event'));
    this.screen.key(['space', 'enter', 'r'], () => this.release());
    this.screen.on('resize', () => {
      this.place();
      this.draw(true);
    });
    this.place();
    this.draw(true);
    this.timer = setInterval(() => this.draw(false), Math.round(1000 / (o.fps ?? 4)));
  }

  /** Subscribe this to the bus after the model: the model is up to date when a mark arrives. */
  consume(e: SimEvent): void {
    if (this.destroyed) return;
    if (e.type === 'run.start' && this.o.lesson) this.holdAtStart();
    if (e.type === 'run.start' || e.type === 'target.ready') this.lessonFor = '';
    if (e.type === 'mark' && this.o.lesson) this.holdAt(e.title, e.predict);
  }

  /** Workshop mode: the lesson first, the run held at 0 s until the instructor goes on. */
  private holdAtStart(): void {
    this.o.controls.hold?.();
    this.held = 'the lesson';
    this.heldAtStart = true;
    this.lessonFor = '';
    this.lessonBox.show();
    this.lessonBox.setFront();
    this.draw(false);
  }

  /** The lesson reflowed to the box's width (again when the width or the target's notes change). */
  private updateLesson(): void {
    const width = Math.max(20, (this.lessonBox.width as number) - 4);
    const key = `${width}/${this.heldAtStart}/${this.model.targetBanner}`;
    if (key === this.lessonFor || !this.model.info) return;
    this.lessonFor = key;
    const footer = this.heldAtStart ? `The ${this.o.mode.kind === 'replay' ? 'replay' : 'run'} is held at 0s: press space to start.` : null;
    this.lessonBox.setContent(lessonText(this.model.info.lesson, width, lessonNotesFor(this.model), footer));
  }

  private holdAt(title: string, predict: string | null): void {
    this.o.controls.hold?.();
    this.held = title;
    const what = this.o.mode.kind === 'replay' ? 'The replay is held' : 'The run is held: no new mail or connections until you go on';
    this.markBox.setLabel(` ▶ ${escapeTags(title)} `);
    this.markBox.setContent([`{bold}${escapeTags(title)}{/bold}`, '', predict ? `Predict: ${escapeTags(predict)}` : 'What do you expect to happen next?', '', `${what}.`, '', 'Press space to continue (l: the lesson).'].join('\n'));
    this.markBox.show();
    this.markBox.setFront();
    this.draw(false);
  }

  private release(): void {
    if (!this.held) return;
    this.held = null;
    this.markBox.hide();
    if (this.heldAtStart) {
      this.heldAtStart = false;
      this.lessonBox.hide();
    }
    this.o.controls.release?.();
    this.draw(false);
  }

  private toggle(b: blessed.Widgets.BoxElement): void {
    if (b.hidden) {
      b.show();
      b.setFront();
    } else b.hide();
    this.draw(false);
  }

  /** Lays the panels out for the current size; charts are rebuilt (their canvas is sized once). */
  private place(): void {
    const { width, height } = this.screen as unknown as { width: number; height: number };
    const l = layout(width, height, this.model.actors.size || 1, this.model.backends.size || 1);
    const put = (el: blessed.Widgets.BoxElement, r: Rect) => {
      Object.assign(el, { top: r.top, left: r.left, width: r.width, height: r.height });
      if (r.height <= 0 || r.width <= 0) el.hide();
      else el.show();
    };
    put(this.header, l.header);
    put(this.actors, l.actors);
    put(this.gauges, l.gauges);
    put(this.log, l.log);
    for (const c of this.charts) c.widget.destroy();
    this.charts = l.charts.map((rect) => {
      const widget = contrib.line({ ...rect, border: { type: 'line' }, tags: true, showLegend: false, abbreviate: true, minY: 0, xPadding: 3, style: { line: 'green', text: 'white', baseline: 'white' } } as never);
      this.screen.append(widget);
      return { widget, rect };
    });
    for (const b of [this.lessonBox, this.helpBox, this.markBox, this.finalBox]) b.setFront();
    this.lessonFor = '';
  }

  private placedFor = '';

  private draw(force: boolean): void {
    if (this.destroyed) return;
    // the table and gauges grow with the actors and backends that run.start announced
    const shape = `${this.model.actors.size}/${this.model.backends.size}`;
    if (shape !== this.placedFor) {
      this.placedFor = shape;
      this.place();
    }
    // a paused display keeps its panels as they were; the header still says what is going on
    if (!this.displayPaused || force) this.updatePanels();
    this.updateHeader();
    this.updateLesson();
    this.screen.render();
  }

  private updateHeader(): void {
    const width = (this.screen as unknown as { width: number }).width;
    const state: HeaderState = { mode: this.o.mode, displayPaused: this.displayPaused, replayPaused: this.replayPaused, held: this.held, note: this.note, lesson: this.o.lesson, now: this.frozenAt ?? undefined };
    this.header.setContent(headerLines(this.model, state, width).map(escapeTags).join('\n'));
  }

  private updatePanels(): void {
    const m = this.model;
    this.actors.setContent(actorTable(m, (this.actors.width as number) - 2).join('\n'));
    this.gauges.setContent(gaugeLines(m, (this.gauges.width as number) - 2).join('\n'));
    const logRows = Math.max(0, (this.log.height as number) - 2);
    this.log.setContent(logLines(m.log.tail(logRows), (this.log.width as number) - 2).join('\n'));
    const all = liveCharts(m);
    this.charts.forEach((c, i) => {
      const chart = all[(this.chartOffset + i) % all.length];
      const data = lineData(chart, this.o.window ?? 60, m.phase !== 'ended');
      const series = data.series.length ? data.series : [{ title: 'none yet', y: data.x.map(() => 0), color: 'white' }];
      (c.widget.options as { maxY?: number }).maxY = data.maxY;
      c.widget.setData(series.map((s) => ({ title: s.title, x: data.x, y: s.y, style: { line: s.color } })));
      c.widget.setLabel(chartLabel(chart, series, c.rect.width - 2));
    });
  }

  /** The run or replay is over, the screen stays for a discussion (the header says how to leave). The final screen: the thresholds with what was measured, over the last state of the dashboard, until q. */
  showFinal(result: { thresholds: ThresholdResult[]; passed: boolean; interrupted: boolean }, note: string): void {
    this.note = note;
    this.held = null;
    for (const b of [this.markBox, this.lessonBox, this.helpBox]) b.hide();
    this.finalBox.setContent(finalLines(result, Math.max(20, (this.finalBox.width as number) - 4)).join('\n'));
    this.finalBox.show();
    this.finalBox.setFront();
    this.draw(true);
  }

  /** Restores the terminal. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    clearInterval(this.timer);
    this.screen.destroy();
  }
}
