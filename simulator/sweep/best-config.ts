// best.yaml: the base config file as it was written (its comments kept) with the
// sweep's chosen values set at their key paths, and a header saying what chose them.
import path from 'node:path';
import { isMap, isScalar, parseDocument } from 'yaml';
import type { Vary } from './grid.ts';

/** Where the file goes, and where its base came from: an editor's `$schema=` path is relative to the file. */
export interface Relocation {
  from: string;
  to: string;
}

/** `# yaml-language-server: $schema=../schemas/proxy.json` for a file moved from `from` to `to`. */
export function relocateSchemaLine(comment: string, where: Relocation): string {
  return comment.replace(/(\$schema=)(\S+)/, (all, key: string, rel: string) => {
    if (/^[a-z]+:\/\//i.test(rel) || path.isAbsolute(rel)) return all;
    const target = path.resolve(path.dirname(where.from), rel);
    return key + path.relative(path.dirname(path.resolve(where.to)), target).split(path.sep).join('/');
  });
}

export function configWithValues(baseText: string | null, varies: Vary[], values: Record<string, string>, header: string[], where?: Relocation): string {
  const base = baseText === null ? null : parseDocument(baseText);
  const doc = base && base.contents !== null ? base : parseDocument('{}\n');
  if (isMap(doc.contents)) doc.contents.flow = false;
  for (const v of varies) {
    const raw = values[v.key];
    doc.setIn(v.path, doc.createNode(v.values[v.raw.indexOf(raw)]));
    const node = doc.getIn(v.path, true);
    if (isScalar(node)) node.comment = ' chosen by attitude sweep';
  }
  const kept = base?.commentBefore ? `\n${where ? relocateSchemaLine(base.commentBefore, where) : base.commentBefore}` : '';
  doc.commentBefore = header.map((l) => ` ${l}`).join('\n') + kept;
  return doc.toString({ lineWidth: 0 });
}
