// The editor schema of scenario files (see proxy/config/json-schema.ts). parse.ts
// validates the actors one by one, by kind, to report each one's problems with its
// own keys; an editor gets the same as one list of the kinds.
import { z } from 'zod';
import { editorSchema } from '../../proxy/config/json-schema.ts';
import type { JsonSchema } from '../../proxy/config/editor-forms.ts';
import { actorSchemas, scenarioSchema } from './schema.ts';

const kinds = Object.values(actorSchemas) as unknown as Parameters<typeof z.discriminatedUnion>[1];

export function scenarioEditorSchema(): JsonSchema {
  return editorSchema(scenarioSchema.extend({ actors: z.array(z.discriminatedUnion('kind', kinds)).min(1) }), {
    title: 'attitude scenario',
    description: 'A scenario of `attitude run`: mock backends, actors and thresholds. Its `proxy:` is a proxy config file, relative to this one.',
  });
}
