// Reads a V8 CPU profile (node --cpu-prof) and says where the time went: a text
// flame graph (the call tree top-down, each frame with its share and µs per unit of
// work), the frames that spent the most themselves, and folded stacks for
// flamegraph.pl or speedscope. Only the samples of a time window count, so a
// process's start-up and warm-up stay out of the figures.
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Profile {
  nodes: Map<number, ProfileNode>;
  parent: Map<number, number>;
  /** µs spent with each node on top of the stack, within the window */
  self: Map<number, number>;
  /** µs of the window the process was busy (the idle samples left out) */
  busy: number;
}

/** `window`: ms from the profile's start; samples outside it are left out. */
export function readProfile(file: string, window: { fromMs: number; toMs: number } = { fromMs: 0, toMs: Infinity }): Profile {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(raw.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of raw.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  let at = 0;
  let busy = 0;
  for (let i = 0; i < raw.samples.length; i++) {
    const dt = raw.timeDeltas[i] ?? 0;
    at += dt;
    if (at < window.fromMs * 1000 || at > window.toMs * 1000) continue;
    const id = raw.samples[i];
    if (nodes.get(id)?.callFrame.functionName === '(idle)') continue;
    self.set(id, (self.get(id) ?? 0) + dt);
    busy += dt;
  }
  return { nodes, parent, self, busy };
}

/** `name file:line`, the file shortened to its last two parts. */
function frameName(f: CallFrame): string {
  const file = f.url ? ` ${f.url.split('/').slice(-2).join('/')}` : '';
  return `${f.functionName || '(anonymous)'}${file}`;
}

function inclusive(p: Profile): Map<number, number> {
  const total = new Map<number, number>();
  for (const [id, t] of p.self) {
    for (let cur: number | undefined = id; cur !== undefined; cur = p.parent.get(cur)) total.set(cur, (total.get(cur) ?? 0) + t);
  }
  return total;
}

/**
 * The call tree as indented lines, heaviest child first: share of the busy time and
 * µs per unit (`units`: messages, say). Frames under `minShare` are left out; a frame
 * that is all but the whole of its caller's time shares its caller's line (`a > b`).
 */
export function flameLines(p: Profile, units: number, minShare = 0.02, maxDepth = 12): string[] {
  const total = inclusive(p);
  const root = [...p.nodes.values()].find((n) => !p.parent.has(n.id));
  const out: string[] = [];
  const heavyKids = (id: number) =>
    (p.nodes.get(id)!.children ?? []).filter((c) => (total.get(c) ?? 0) / p.busy >= minShare).sort((a, b) => total.get(b)! - total.get(a)!);
  const walk = (id: number, depth: number) => {
    const t = total.get(id) ?? 0;
    const names = [frameName(p.nodes.get(id)!.callFrame)];
    let last = id;
    for (let kids = heavyKids(last); kids.length === 1 && total.get(kids[0])! >= 0.97 * t; kids = heavyKids(last)) {
      last = kids[0];
      names.push(frameName(p.nodes.get(last)!.callFrame));
    }
    const shown = names.length > 4 ? [names[0], '…', ...names.slice(-2)] : names;
    out.push(`${(100 * t / p.busy).toFixed(1).padStart(5)} %${(t / units).toFixed(1).padStart(8)} µs  ${'  '.repeat(depth)}${shown.join(' > ')}`);
    if (depth < maxDepth) for (const c of heavyKids(last)) walk(c, depth + 1);
  };
  if (root) for (const c of heavyKids(root.id)) walk(c, 0);
  return out;
}

/** The frames that spent the most time themselves (all their call sites together). */
export function selfLines(p: Profile, units: number, count = 25): string[] {
  const byName = new Map<string, number>();
  for (const [id, t] of p.self) {
    const name = frameName(p.nodes.get(id)!.callFrame);
    byName.set(name, (byName.get(name) ?? 0) + t);
  }
  return [...byName]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, t]) => `${(100 * t / p.busy).toFixed(1).padStart(5)} %${(t / units).toFixed(1).padStart(8)} µs  ${name}`);
}

/** Folded stacks (`root;child;leaf µs` per line), the input of flamegraph.pl and speedscope. */
export function foldedStacks(p: Profile): string {
  const lines: string[] = [];
  for (const [id, t] of p.self) {
    const stack: string[] = [];
    for (let cur: number | undefined = id; cur !== undefined; cur = p.parent.get(cur)) {
      const f = p.nodes.get(cur)!.callFrame;
      if (p.parent.has(cur)) stack.push(frameName(f).replace(/;/g, ','));
    }
    lines.push(`${stack.reverse().join(';')} ${Math.round(t)}`);
  }
  return lines.sort().join('\n') + '\n';
}
