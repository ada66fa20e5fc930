// The page shell of the HTML reports: one file, inline CSS, no script and no
// reference to anything outside it.
import { escapeHtml } from './svg.ts';

const CSS = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222; margin: 0; background: #f6f7f9; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #e4e4e4; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 4px; }
.meta { color: #555; margin: 0 0 8px; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 10px; font-weight: 600; font-size: 13px; }
.pass { background: #e3f4e3; color: #1d6b1d; } .fail { background: #fbe2e2; color: #9b1c1c; } .warn { background: #fff1d6; color: #7a5200; }
table { border-collapse: collapse; margin: 6px 0 10px; font-size: 13px; }
.wide { max-width: 100%; overflow-x: auto; }
th { white-space: nowrap; }
th, td { border-bottom: 1px solid #eee; padding: 4px 10px; text-align: right; vertical-align: top; }
th { background: #fafafa; font-weight: 600; }
td.text, th.text { text-align: left; }
td.ok { color: #1d6b1d; font-weight: 600; } td.bad { color: #9b1c1c; font-weight: 600; }
.lesson { background: #f3f7fc; border-left: 4px solid #2f7ed8; padding: 2px 14px; margin: 8px 0; }
.note { color: #666; font-size: 12px; margin: 2px 0 14px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 8px 24px; }
figure { margin: 0; } figcaption { font-weight: 600; margin: 8px 0 2px; }
svg { max-width: 100%; height: auto; display: block; }
code { background: #f2f2f2; padding: 0 4px; border-radius: 3px; }
`;

export function page(title: string, body: string): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body><main>',
    body,
    '</main></body>',
    '</html>',
    '',
  ].join('\n');
}

export type Cell = string | number | null | { html: string; cls?: string };

/** A table; plain cells are escaped, `{ html }` cells are trusted markup; `text` columns are left-aligned, numbers right. */
export function table(head: string[], rows: Cell[][], text: number[] = [0]): string {
  const cell = (c: Cell, i: number, tag: 'td' | 'th') => {
    const cls = typeof c === 'object' && c !== null && c.cls ? c.cls : text.includes(i) ? 'text' : '';
    const content = c === null ? '-' : typeof c === 'object' ? c.html : escapeHtml(String(c));
    return `<${tag}${cls ? ` class="${cls}"` : ''}>${content}</${tag}>`;
  };
  // a wide table (a comparison of four runs) scrolls inside the page instead of overflowing it
  return `<div class="wide"><table><thead><tr>${head.map((h, i) => cell(h, i, 'th')).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c, i) => cell(c, i, 'td')).join('')}</tr>`).join('')}</tbody></table></div>`;
}

export function figure(caption: string, svg: string, note?: string): string {
  return `<figure><figcaption>${escapeHtml(caption)}</figcaption>${svg}${note ? `<p class="note">${escapeHtml(note)}</p>` : ''}</figure>`;
}
