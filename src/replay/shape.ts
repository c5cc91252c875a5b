/**
 * The shape of a message: which key paths it has and what type of value sits at each, values
 * ignored. Two servers that behave alike send messages of the same shapes, whatever the text,
 * audio, ids, handles and token counts inside them.
 */

/** Sorted, unique `path:type` entries, e.g. `serverContent.modelTurn.parts[].text:string`. */
export type Shape = readonly string[];

type JsonType = 'string' | 'number' | 'boolean' | 'null' | 'object' | 'array';

function typeOf(value: unknown): JsonType | undefined {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'object':
      return 'object';
    default:
      // undefined, functions, bigints: nothing JSON.parse produces.
      return undefined;
  }
}

/**
 * Every key path of `value` with the type at it. Objects and arrays have an entry of their own
 * (so `setupComplete: {}` is not shapeless, and an empty array differs from a missing one); array
 * elements share the path `name[]`, their shapes merged, so a message with three parts has the
 * shape of one with a single part of the same kind. A value that is not an object is the path `$`.
 */
export function shapeOf(value: unknown): Shape {
  const out = new Set<string>();
  const walk = (v: unknown, path: string): void => {
    const t = typeOf(v);
    if (t === undefined) return;
    out.add(`${path}:${t}`);
    if (t === 'array') for (const item of v as unknown[]) walk(item, `${path}[]`);
    else if (t === 'object') for (const [k, child] of Object.entries(v as Record<string, unknown>)) walk(child, `${path}.${k}`);
  };
  const t = typeOf(value);
  if (t === 'object') {
    for (const [k, child] of Object.entries(value as Record<string, unknown>)) walk(child, k);
  } else walk(value, '$');
  return [...out].sort();
}

/** A string equal for equal shapes: what runs and the diff compare. */
export function shapeKey(shape: Shape): string {
  return shape.join('\n');
}

/**
 * A short name for a shape, for people: each top-level key with its direct children, e.g.
 * `serverContent{turnComplete} usageMetadata{…}`. Children beyond three are elided.
 */
export function shapeLabel(shape: Shape): string {
  const top = new Map<string, Set<string>>();
  for (const entry of shape) {
    const path = entry.slice(0, entry.lastIndexOf(':'));
    const m = /^([^.[\]]+)(?:\[\])*(?:\.([^.[\]]+))?/.exec(path);
    if (!m) continue;
    const children = top.get(m[1]!) ?? new Set<string>();
    top.set(m[1]!, children);
    if (m[2] !== undefined && path.length > m[1]!.length) children.add(m[2]);
  }
  if (top.size === 0) return '{}';
  return [...top]
    .map(([k, children]) => (children.size === 0 ? k : children.size > 3 ? `${k}{…}` : `${k}{${[...children].join(',')}}`))
    .join(' ');
}

/** Entries of `expected` that `got` lacks, and the other way round. */
export function shapeDelta(expected: Shape, got: Shape): { missing: string[]; extra: string[] } {
  const e = new Set(expected);
  const g = new Set(got);
  return { missing: expected.filter((x) => !g.has(x)), extra: got.filter((x) => !e.has(x)) };
}
