// JSON Schemas of the YAML files for editors (yaml-language-server in VS Code, vim,
// emacs: completion, hover text, checks as you type), written from the zod schemas so
// they never drift: schemas/write.ts writes them, a test checks they are current.
import { z } from 'zod';
import { editorForms, type JsonSchema } from './editor-forms.ts';
import { proxyConfigSchema } from './schema.ts';

type Def = {
  type: string;
  innerType?: z.core.$ZodType;
  in?: z.core.$ZodType;
  options?: z.core.$ZodType[];
  values?: unknown[];
  entries?: Record<string, unknown>;
  defaultValue?: unknown;
};

/**
 * A parsed value as it is written in a file (`{ count: 60, perMs: 60000 }` is `60/1m`),
 * or undefined when it cannot be said. zod leaves out the defaults of fields that
 * transform their input, as it only knows the parsed value; this puts them back.
 */
function inFileForm(schema: z.core.$ZodType, value: unknown): unknown {
  const form = editorForms.get(schema);
  if (form?.show) return (form.show as (v: unknown) => unknown)(value);
  const def = schema._zod.def as unknown as Def;
  switch (def.type) {
    case 'default':
    case 'prefault':
    case 'optional':
    case 'nullable':
    case 'readonly':
      return value === null || value === undefined ? value : inFileForm(def.innerType!, value);
    case 'pipe':
      return inFileForm(def.in!, value);
    case 'union':
      for (const option of def.options!) {
        const shown = inFileForm(option, value);
        if (shown !== undefined) return shown;
      }
      return undefined;
    case 'literal':
      return def.values!.includes(value) ? value : undefined;
    case 'enum':
      return Object.values(def.entries!).includes(value) ? value : undefined;
    case 'null':
      return value === null ? value : undefined;
    case 'string':
    case 'number':
    case 'boolean':
      return typeof value === def.type ? value : undefined;
    default:
      // objects, arrays, records: their defaults are plain data ({} or [])
      return value;
  }
}

/** The editor schema of a zod schema: what a file may say (zod's input side), with its defaults. */
export function editorSchema(schema: z.ZodType, about: { title: string; description: string }): JsonSchema {
  const json = z.toJSONSchema(schema, {
    // yaml-language-server (and so most editors) supports JSON Schema draft 7 and below
    target: 'draft-07',
    // what a file says, not what the parsed config holds: defaulted keys are optional
    io: 'input',
    override: ({ zodSchema, jsonSchema }) => {
      const form = editorForms.get(zodSchema);
      if (form) Object.assign(jsonSchema, form.json);
      const def = zodSchema._zod.def as unknown as Def;
      if (def.type === 'default' && !('default' in jsonSchema)) {
        const shown = inFileForm(def.innerType!, def.defaultValue);
        if (shown !== undefined) jsonSchema.default = shown;
      }
      // `.int()` bounds to the safe integers, which only clutter a hover text
      if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
      if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
    },
  }) as JsonSchema;
  const { $schema, ...rest } = json;
  return { $schema, title: about.title, description: about.description, ...rest };
}

export function proxyConfigEditorSchema(): JsonSchema {
  return editorSchema(proxyConfigSchema, {
    title: 'attitude proxy config',
    description: 'The config of `attitude proxy` (and of the in-process proxy of `attitude run`). Every key has a default.',
  });
}
