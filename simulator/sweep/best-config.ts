// best.yaml: the base config file as it was written (its comments kept) with the
// sweep's chosen values set at their key paths, and a header saying what chose them.
import { isMap, isScalar, parseDocument } from 'yaml';
import type { Vary } from './grid.ts';

export function configWithValues(baseText: string | null, varies: Vary[], values: Record<string, string>, header: string[]): string {
  const base = baseText === null ? null : parseDocument(baseText);
  const doc = base && base.contents !== null ? base : parseDocument('{}\n');
  if (isMap(doc.contents)) doc.contents.flow = false;
  for (const v of varies) {
    const raw = values[v.key];
    doc.setIn(v.path, doc.createNode(v.values[v.raw.indexOf(raw)]));
    const node = doc.getIn(v.path, true);
    if (isScalar(node)) node.comment = ' chosen by attitude sweep';
  }
  const kept = base?.commentBefore ? `\n${base.commentBefore}` : '';
  doc.commentBefore = header.map((l) => ` ${l}`).join('\n') + kept;
  return doc.toString({ lineWidth: 0 });
}
