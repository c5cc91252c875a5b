/**
 * Client frame → validated `ClientMessage`, or the close the real service would answer with.
 * Pure: no socket, no logging. Unknown fields are returned so the caller can log them once.
 */
import { TextDecoder } from 'node:util';
import { ClientMessageKinds, type ClientMessage, type ClientMessageKind } from './client-schema.js';
import { CloseReasons, unknownFieldClose, type CloseSpec } from './close-codes.js';
import { toCamelCase, toSnakeCase } from './case.js';
import { normalize, type UnknownField } from './normalize.js';

export interface ParseOptions {
  /**
   * Strict conformance: unknown fields and scalars for lists are refused as Google's parser
   * refuses them. Loose (default) accepts both, as relive's clients need.
   */
  readonly strict?: boolean;
}

export type ParseResult =
  | { ok: true; message: ClientMessage; unknownFields: UnknownField[] }
  /** A `{"type": …}` message (Mastra's OpenAI-style extensions): not part of the protocol. */
  | { ok: 'foreign'; type: string }
  | { ok: false; close: CloseSpec; detail: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });
const kinds = Object.keys(ClientMessageKinds) as ClientMessageKind[];

function fail(detail: string, close: CloseSpec = CloseReasons.invalidArgument): ParseResult {
  return { ok: false, close, detail };
}

/** Decodes a frame's payload; text frames were already UTF-8 checked by `ws`. */
export function decodeFrame(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): string | undefined {
  const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  if (!isBinary) return buf.toString('utf8');
  try {
    return utf8.decode(buf);
  } catch {
    return undefined;
  }
}

export function parseClientJson(text: string, options: ParseOptions = {}): ParseResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return fail('frame is not JSON');
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return fail('frame is not a JSON object');
  const envelope = json as Record<string, unknown>;

  const present: { kind: ClientMessageKind; key: string }[] = [];
  const extra: UnknownField[] = [];
  for (const key of Object.keys(envelope)) {
    const name = toCamelCase(key) as ClientMessageKind;
    if (kinds.includes(name)) present.push({ kind: name, key });
    else extra.push({ name: key, at: '' });
  }
  if (present.length === 0) {
    if (typeof envelope.type === 'string') return { ok: 'foreign', type: envelope.type };
    return fail(`no known message kind among keys: ${Object.keys(envelope).join(', ') || '(none)'}`);
  }
  if (present.length > 1) return fail(`more than one message kind: ${present.map((p) => p.key).join(', ')}`);

  const { kind, key } = present[0]!;
  const strict = options.strict === true;
  const schema = ClientMessageKinds[kind];
  const normalized = normalize(envelope[key], schema, toSnakeCase(kind), { scalarToList: !strict });
  const unknownFields = [...extra, ...normalized.unknown];
  if (strict && unknownFields.length > 0) {
    const first = unknownFields[0]!;
    return fail(`unknown field ${first.name}`, unknownFieldClose(first.name, first.at));
  }
  const parsed = schema.safeParse(normalized.value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return fail(`${kind}: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`);
  }
  return { ok: true, message: { kind, [kind]: parsed.data } as ClientMessage, unknownFields };
}

export function parseClientFrame(
  data: Buffer | ArrayBuffer | Buffer[],
  isBinary: boolean,
  options: ParseOptions = {},
): ParseResult {
  const text = decodeFrame(data, isBinary);
  if (text === undefined) return fail('binary frame is not valid UTF-8');
  return parseClientJson(text, options);
}
