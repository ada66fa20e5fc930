// Plain-text tables for the terminal: the first column left-aligned, the others right.
export function textTable(head: string[], rows: string[][], indent = '  '): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => (indent + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).trimEnd();
  return [line(head), ...rows.map(line)];
}
