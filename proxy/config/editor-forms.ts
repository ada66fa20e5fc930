// What editors are told about the fields zod cannot describe by itself: a parsed
// field is `z.unknown()` to zod, so its JSON Schema (the strings and numbers its parser
// accepts) and the way a parsed default is written in a file are kept here, beside
// the schema, and json-schema.ts puts them into schemas/*.json.
import { z } from 'zod';

export type JsonSchema = Record<string, unknown>;

/** The JSON Schema of what a field accepts, and how a parsed value (a default) is written in a file. */
export interface EditorForm {
  json: JsonSchema;
  show?: (value: never) => unknown;
}
export const editorForms = z.registry<EditorForm>();

/**
 * A JSON Schema `pattern` for a case-insensitive regular expression source: JSON
 * Schema patterns take no flags, so each letter becomes `[xX]` (escapes and character
 * classes are kept as they are).
 */
export function caseless(source: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') out += c + source[++i];
    else if (inClass || c === '[') {
      inClass = c === '[' || (inClass && c !== ']');
      out += c;
    } else out += c.toLowerCase() !== c.toUpperCase() ? `[${c.toLowerCase()}${c.toUpperCase()}]` : c;
  }
  return out;
}

/** A string of the whole syntax, surrounding blanks allowed (as the parsers allow them). */
export const textOf = (syntax: string): JsonSchema => ({ type: 'string', pattern: caseless(`^\\s*(?:${syntax})\\s*$`) });
