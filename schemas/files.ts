// The editor schemas shipped in this folder, as the text of each file. `npm run schemas`
// writes them (write.ts); test/unit/editor-schemas.test.ts fails when one is stale.
import { fileURLToPath } from 'node:url';
import { proxyConfigEditorSchema } from '../proxy/config/json-schema.ts';
import { scenarioEditorSchema } from '../simulator/scenario/json-schema.ts';

export const SCHEMA_DIR = fileURLToPath(new URL('.', import.meta.url));

export function schemaFiles(): Record<string, string> {
  return {
    'proxy.json': JSON.stringify(proxyConfigEditorSchema(), null, 2) + '\n',
    'scenario.json': JSON.stringify(scenarioEditorSchema(), null, 2) + '\n',
  };
}
