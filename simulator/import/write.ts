// The files of an import: the scenario (with its schema line, long lists of numbers and
// addresses on one line each), the proxy config as it was beside it, and on request
// the address map (real address, lab address, class, actor) as CSV: the scenario itself
// carries no real address, so it can be shared.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Document, isMap, isScalar, isSeq, visit } from 'yaml';
import { asItWasYaml } from './as-it-was.ts';
import type { Imported, MapRow } from './build.ts';

const SCHEMAS = fileURLToPath(new URL('../../schemas/', import.meta.url));

/** The schema line of a file at `file`: relative to it, as the catalogue's are. */
export function schemaLine(file: string, schema: 'scenario.json' | 'proxy.json'): string {
  const rel = path.relative(path.dirname(path.resolve(file)), path.join(SCHEMAS, schema)).split(path.sep).join('/');
  return `yaml-language-server: $schema=${rel}`;
}

export function scenarioYaml(imported: Imported, file: string): string {
  const doc = new Document(imported.scenario, { aliasDuplicateObjects: false });
  // a list of plain values (addresses, counts, tricks, domains) reads best on one line
  visit(doc, {
    Seq(_, node) {
      if (node.items.every((i) => isScalar(i))) node.flow = true;
    },
    Map(_, node) {
      // small maps of plain values (retry, an arrival, a mark, a DNSBL entry) stay on one line
      if (isMap(node) && node.items.length <= 4 && node.items.every((p) => isScalar(p.value) || (isSeq(p.value) && p.value.flow))) {
        const key = (node.items[0]?.key as { value?: unknown })?.value;
        if (key === 'after' || key === 'type' || key === 'at' || key === 'zone') node.flow = true;
      }
    },
  });
  doc.commentBefore = ` ${schemaLine(file, 'scenario.json')}\n attitude import: ${imported.scenario.description}`;
  return doc.toString({ lineWidth: 0, flowCollectionPadding: true, blockQuote: 'literal' });
}

export function mapCsv(rows: MapRow[]): string {
  const q = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return ['real,lab,lab_network,class,actor,because', ...rows.map((r) => [r.real, r.mapped, r.network, r.class, r.actor, r.because].map(q).join(','))].join('\n') + '\n';
}

export interface ImportFiles {
  scenario: string;
  proxy: string;
  map?: string;
}

export function writeImport(imported: Imported, files: ImportFiles, source: string): void {
  mkdirSync(path.dirname(path.resolve(files.scenario)), { recursive: true });
  writeFileSync(files.scenario, scenarioYaml(imported, files.scenario));
  const header = [
    schemaLine(files.proxy, 'proxy.json'),
    `attitude import: the limits ${source} shows its server enforcing, for the scenario`,
    `${path.basename(files.scenario)} (attitude run / attitude sweep). Rates are in the run's time.`,
  ];
  writeFileSync(files.proxy, asItWasYaml(imported.proxyKeys, header));
  if (files.map) writeFileSync(files.map, mapCsv(imported.map));
}
