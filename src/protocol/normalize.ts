/**
 * Schema-driven lenient proto3-JSON normalization. Google's parser accepts snake_case and
 * lowerCamelCase for every field; real clients send both (Mastra, Pipecat, the Python SDK), and
 * Pipecat sends a scalar where a list is expected. This walks the JSON alongside the zod schema,
 * renames proto field names to camelCase, wraps scalars into lists (loose mode), and reports
 * unknown fields. Values the schema declares free-form (records, unknown) are user data and are
 * copied untouched: `functionCall.args` keys must never be renamed.
 */
import type { z } from 'zod';
import { toCamelCase, toSnakeCase } from './case.js';

export interface UnknownField {
  /** The field's name as the client spelled it. */
  readonly name: string;
  /** Google-style proto path of the message that holds it, e.g. `setup.tools[0]`; '' at the root. */
  readonly at: string;
}

export interface NormalizeOptions {
  /** Wrap a scalar given for a repeated field into a one-element list (PROTOCOL.md §2.1). */
  readonly scalarToList: boolean;
}

interface Walk {
  readonly options: NormalizeOptions;
  readonly unknown: UnknownField[];
}

type Def = { type: string; [k: string]: unknown };

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { def: Def }).def;
}

/** Peels wrappers that do not change the JSON shape the client sends. */
function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (;;) {
    const def = defOf(s);
    switch (def.type) {
      case 'optional':
      case 'nullable':
      case 'default':
      case 'prefault':
      case 'readonly':
      case 'catch':
        s = def.innerType as z.ZodType;
        break;
      case 'pipe':
        s = def.in as z.ZodType;
        break;
      case 'lazy':
        s = (def.getter as () => z.ZodType)();
        break;
      default:
        return s;
    }
  }
}

/** Path segments of the value being walked; joined only when an unknown field is recorded. */
type Path = readonly string[];

function pathText(path: Path): string {
  return path.join('');
}

function walk(value: unknown, schema: z.ZodType, path: Path, w: Walk): unknown {
  const s = unwrap(schema);
  const def = defOf(s);
  if (def.type === 'object') {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
    const shape = def.shape as Record<string, z.ZodType>;
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      const name = key in shape ? key : toCamelCase(key);
      const fieldSchema = shape[name];
      if (fieldSchema === undefined) {
        w.unknown.push({ name: key, at: pathText(path) });
        continue;
      }
      out[name] = walk(child, fieldSchema, [...path, `.${snakeName(name)}`], w);
    }
    return out;
  }
  if (def.type === 'array') {
    const element = def.element as z.ZodType;
    const list = Array.isArray(value) ? value : w.options.scalarToList && value !== null ? [value] : value;
    return Array.isArray(list) ? list.map((item, i) => walk(item, element, [...path, `[${i}]`], w)) : list;
  }
  return value;
}

const snakeNames = new Map<string, string>();

/** Field names are few and repeat on every message, so their snake_case form is computed once. */
function snakeName(name: string): string {
  let snake = snakeNames.get(name);
  if (snake === undefined) {
    snake = toSnakeCase(name);
    snakeNames.set(name, snake);
  }
  return snake;
}

/**
 * Returns the value with proto field names in camelCase, plus the unknown fields found.
 * Unknown fields are left out of the result; the caller decides whether they are an error.
 */
export function normalize(
  value: unknown,
  schema: z.ZodType,
  path: string,
  options: NormalizeOptions,
): { value: unknown; unknown: UnknownField[] } {
  const w: Walk = { options, unknown: [] };
  return { value: walk(value, schema, [path], w), unknown: w.unknown };
}
