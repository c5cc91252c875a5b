/**
 * Gemini function declarations → OpenAI `tools`. Gemini's `parameters` use an OpenAPI subset
 * with upper-case types (`OBJECT`, `STRING`, …) and `nullable`; OpenAI takes JSON Schema. A
 * declaration's `parametersJsonSchema` is JSON Schema already and goes through as it is.
 */
import type { Tool } from '../../protocol/client-schema.js';

export interface ChatTool {
  type: 'function';
  function: { name: string; description?: string; parameters: Record<string, unknown> };
}

/** Only function declarations translate; Google's built-in tools (search, code execution, …) have no counterpart. */
export function toChatTools(tools: readonly Tool[]): ChatTool[] {
  const out: ChatTool[] = [];
  for (const tool of tools) {
    for (const fd of tool.functionDeclarations ?? []) {
      const parameters = isObject(fd.parametersJsonSchema)
        ? fd.parametersJsonSchema
        : fd.parameters
          ? toJsonSchema(fd.parameters)
          : { type: 'object', properties: {} };
      out.push({
        type: 'function',
        function: { name: fd.name, ...(fd.description ? { description: fd.description } : {}), parameters },
      });
    }
  }
  return out;
}

/** Keywords whose values are schemas. */
const SCHEMA_MAPS = new Set(['properties', '$defs', 'definitions']);
const SCHEMA_LISTS = new Set(['anyOf', 'oneOf', 'allOf', 'prefixItems']);
const SCHEMA_VALUES = new Set(['items', 'additionalProperties', 'not']);
/** Integer keywords that proto3 JSON may have sent as strings (int64). */
const COUNTS = new Set(['minItems', 'maxItems', 'minLength', 'maxLength', 'minProperties', 'maxProperties']);

/** One Gemini `Schema` → JSON Schema, recursively. */
export function toJsonSchema(schema: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'type') {
      const type = typeof value === 'string' ? jsonType(value) : undefined;
      if (type) out.type = type;
    } else if (key === 'nullable' || key === 'propertyOrdering') {
      // nullable is applied below; propertyOrdering has no JSON Schema meaning.
    } else if (key === 'format' && value === 'enum') {
      // Gemini's marker for an enum string: `enum` says it already.
    } else if (key === 'example') {
      out.examples = [value];
    } else if (SCHEMA_MAPS.has(key) && isObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, isObject(v) ? toJsonSchema(v) : v]));
    } else if (SCHEMA_LISTS.has(key) && Array.isArray(value)) {
      out[key] = value.map((v) => (isObject(v) ? toJsonSchema(v) : v));
    } else if (SCHEMA_VALUES.has(key) && isObject(value)) {
      out[key] = toJsonSchema(value);
    } else if (COUNTS.has(key) && typeof value === 'string' && /^\d+$/.test(value)) {
      out[key] = Number(value);
    } else {
      out[key] = value;
    }
  }
  if (schema.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    else if (Array.isArray(out.anyOf)) out.anyOf = [...out.anyOf, { type: 'null' }];
  }
  return out;
}

function jsonType(type: string): string | undefined {
  const t = type.toLowerCase();
  return ['object', 'string', 'integer', 'number', 'boolean', 'array', 'null'].includes(t) ? t : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
