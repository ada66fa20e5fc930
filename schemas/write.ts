// `npm run schemas`: writes schemas/proxy.json and schemas/scenario.json from the zod
// schemas. Run it after changing a schema, and commit what it wrote.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { SCHEMA_DIR, schemaFiles } from './files.ts';

for (const [name, text] of Object.entries(schemaFiles())) {
  writeFileSync(path.join(SCHEMA_DIR, name), text);
  process.stdout.write(`wrote schemas/${name}\n`);
}
