// Where the TUI's panels go for a terminal size: everything readable at 80x24,
// and more charts side by side as the terminal grows. Pure, so it is tested
// without a terminal.

export interface Rect {
  top: number;
  left: number;
  width: number;
  height: number;
}

export interface Layout {
  header: Rect;
  actors: Rect;
  gauges: Rect;
  charts: Rect[];
  log: Rect;
}

export const HEADER_ROWS = 2;
const MIN_CHART_ROWS = 8;
const MIN_CHART_COLS = 38;
const MIN_LOG_ROWS = 4;

/** `actors` and `backends` are counts; `charts` how many charts there are to show at most. */
export function layout(width: number, height: number, actors: number, backends: number, charts = 4): Layout {
  const header: Rect = { top: 0, left: 0, width, height: HEADER_ROWS };
  // the actor table and the gauges come first (a chart can give way to them); on a
  // very short terminal the table shows the actors that fit
  const gaugeRows = Math.min(backends + 3, Math.max(3, Math.floor((height - HEADER_ROWS) / 4)));
  const tableRows = Math.min(actors + 3, Math.max(4, height - HEADER_ROWS - gaugeRows - 7));
  const sideBySide = width >= 110;
  let top = HEADER_ROWS;
  let actorsRect: Rect;
  let gauges: Rect;
  if (sideBySide) {
    const rows = Math.max(tableRows, gaugeRows);
    const tableWidth = Math.min(width - 40, Math.max(72, Math.floor(width * 0.55)));
    actorsRect = { top, left: 0, width: tableWidth, height: rows };
    gauges = { top, left: tableWidth, width: width - tableWidth, height: rows };
    top += rows;
  } else {
    actorsRect = { top, left: 0, width, height: tableRows };
    top += tableRows;
    gauges = { top, left: 0, width, height: gaugeRows };
    top += gaugeRows;
  }

  const rest = Math.max(0, height - top);
  const cols = Math.max(1, Math.min(charts, Math.floor(width / MIN_CHART_COLS), width >= 160 ? 4 : 2));
  const logRows = Math.max(MIN_LOG_ROWS, Math.min(10, Math.floor(rest / 4)));
  const chartSpace = rest - logRows;
  const rows = Math.max(0, Math.min(Math.ceil(charts / cols), Math.floor(chartSpace / MIN_CHART_ROWS)));

  if (rows === 0) {
    // a short terminal: one chart beside the log, or only the log when even that does not fit
    if (rest >= MIN_CHART_ROWS - 2 && width >= 2 * MIN_CHART_COLS) {
      const half = Math.floor(width / 2);
      return { header, actors: actorsRect, gauges, charts: [{ top, left: 0, width: half, height: rest }], log: { top, left: half, width: width - half, height: rest } };
    }
    return { header, actors: actorsRect, gauges, charts: [], log: { top, left: 0, width, height: rest } };
  }
  const chartRows = Math.floor(chartSpace / rows);
  const chartRects: Rect[] = [];
  for (let r = 0; r < rows; r++) {
    const inRow = Math.min(cols, charts - r * cols);
    for (let c = 0; c < inRow; c++) {
      const w = Math.floor(width / inRow);
      chartRects.push({ top: top + r * chartRows, left: c * w, width: c === inRow - 1 ? width - c * w : w, height: chartRows });
    }
  }
  const logTop = top + rows * chartRows;
  return { header, actors: actorsRect, gauges, charts: chartRects, log: { top: logTop, left: 0, width, height: height - logTop } };
}
