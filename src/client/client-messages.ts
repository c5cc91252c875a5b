/**
 * The wire messages `@google/genai` 3.1.0 sends for `sendClientContent`, `sendRealtimeInput` and
 * `sendToolResponse` in Gemini API mode (CLIENTS.md §3.2), rebuilt here so the resilient client can
 * drive its own socket and still put the same JSON on the wire. The SDK's input conversion
 * (strings → parts → contents, its whitelist of Part fields, its validation errors) is matched
 * case by case; the tests compare against frames captured from the real SDK.
 *
 * Browser-safe: only types are imported from the SDK.
 */
import type {
  Blob as GenaiBlob,
  Content,
  LiveClientContent,
  LiveClientRealtimeInput,
  LiveSendClientContentParameters,
  LiveSendRealtimeInputParameters,
  LiveSendToolResponseParameters,
  FunctionResponse,
} from '@google/genai';

// Type aliases rather than interfaces: callers store these as Record<string, unknown>, which an
// interface (no implicit index signature) would not be assignable to.
export type ClientContentMessage = { clientContent: LiveClientContent };
export type RealtimeInputMessage = { realtimeInput: LiveClientRealtimeInput };
export type ToolResponseMessage = { toolResponse: { functionResponses: FunctionResponse[] } };
export type ClientMessage = ClientContentMessage | RealtimeInputMessage | ToolResponseMessage;
export type ClientMessageKind = 'clientContent' | 'realtimeInput' | 'toolResponse';

type Obj = Record<string, unknown>;

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null;

// ---------------------------------------------------------------------------------------------
// Content conversion (shared with setup-from-config.ts for systemInstruction)
// ---------------------------------------------------------------------------------------------

/**
 * Part fields the SDK's Gemini-API converter copies, in its order; anything else on a Part is
 * dropped before sending, so it is dropped here too (the service would reject unknown fields).
 */
const PART_FIELDS = [
  'mediaResolution',
  'toolCall',
  'toolResponse',
  'audioTranscription',
  'codeExecutionResult',
  'executableCode',
  'fileData',
  'functionCall',
  'functionResponse',
  'inlineData',
  'text',
  'thought',
  'thoughtSignature',
  'videoMetadata',
  'partMetadata',
  'mediaProcessing',
  'speechMetadata',
] as const;

/** Vertex-only FunctionCall fields: the SDK refuses them in Gemini API mode. */
const VERTEX_ONLY_FUNCTION_CALL_FIELDS = ['partialArgs', 'willContinue'] as const;

export function vertexOnlyError(field: string): Error {
  return new Error(`${field} is only supported on Vertex AI (Gemini Enterprise Agent Platform), not on the Gemini API.`);
}

/** Copies the fields of `src` named in `keys` that are neither null nor undefined, in `keys` order. */
export function pickDefined(src: Obj, keys: readonly string[]): Obj {
  const out: Obj = {};
  for (const k of keys) if (src[k] != null) out[k] = src[k];
  return out;
}

/** Throws when any of `keys` is present (even as null), as the SDK's `!== undefined` checks do. */
export function rejectPresent(src: Obj, keys: readonly string[]): void {
  for (const k of keys) if (src[k] !== undefined) throw vertexOnlyError(k);
}

function functionCallToWire(fc: unknown): unknown {
  if (!isObject(fc)) return {};
  const out = pickDefined(fc, ['args', 'id', 'name']);
  rejectPresent(fc, VERTEX_ONLY_FUNCTION_CALL_FIELDS);
  return out;
}

/** A Part as the SDK puts it on the wire. A non-object part inside Content.parts becomes `{}`, as in the SDK. */
function partToWire(part: unknown): Obj {
  const out: Obj = {};
  if (!isObject(part)) return out;
  for (const k of PART_FIELDS) {
    const v = part[k];
    if (v == null) continue;
    out[k] = k === 'functionCall' ? functionCallToWire(v) : v;
  }
  return out;
}

/** A Content as the SDK puts it on the wire: parts filtered, `role` kept only when given. */
export function contentToWire(content: Obj): Content {
  const out: Obj = {};
  const parts = content.parts;
  if (parts != null) out.parts = Array.isArray(parts) ? parts.map(partToWire) : parts;
  if (content.role != null) out.role = content.role;
  return out as Content;
}

function isContent(v: unknown): v is Obj {
  return isObject(v) && 'parts' in v && Array.isArray(v.parts);
}

const hasFunctionPart = (v: unknown): boolean => isObject(v) && ('functionCall' in v || 'functionResponse' in v);

/** A PartUnion: a string becomes a text part, an object is taken as a Part. */
function toPart(v: unknown): unknown {
  if (v === null || v === undefined) throw new Error('PartUnion is required');
  if (typeof v === 'string') return { text: v };
  if (typeof v === 'object') return v;
  throw new Error(`Unsupported part type: ${typeof v}`);
}

function toParts(v: unknown): unknown[] {
  if (v === null || v === undefined || (Array.isArray(v) && v.length === 0)) throw new Error('PartListUnion is required');
  return Array.isArray(v) ? v.map(toPart) : [toPart(v)];
}

/**
 * A ContentUnion (string, Part, Part[] or Content) as one Content: a Content is kept as given
 * (without adding a role), anything else becomes `{role: 'user', parts}`.
 */
export function toContent(v: unknown): Obj {
  if (v === null || v === undefined) throw new Error('ContentUnion is required');
  if (isContent(v)) return v;
  return { role: 'user', parts: toParts(v) };
}

/**
 * A ContentListUnion as Content[]: one Content, or an array of Contents, or parts/strings that
 * together form a single user turn. Mixing Contents with parts, or bare functionCall /
 * functionResponse parts (whose role would be a guess), is refused, as in the SDK.
 */
export function toContents(v: unknown): Obj[] {
  if (v === null || v === undefined || (Array.isArray(v) && v.length === 0)) throw new Error('contents are required');
  if (!Array.isArray(v)) {
    if (hasFunctionPart(v)) {
      throw new Error('functionCall and functionResponse parts must be wrapped in a Content that names their role');
    }
    return [toContent(v)];
  }
  const contentArray = isContent(v[0]);
  const contents: Obj[] = [];
  const parts: unknown[] = [];
  for (const item of v) {
    if (isContent(item) !== contentArray) {
      throw new Error('Mixing Content and Parts is not supported: group the parts into Content objects with their roles');
    }
    if (contentArray) contents.push(item as Obj);
    else if (hasFunctionPart(item)) {
      throw new Error('functionCall and functionResponse parts must be wrapped in a Content that names their role');
    } else parts.push(item);
  }
  if (!contentArray) contents.push({ role: 'user', parts: toParts(parts) });
  return contents;
}

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

/**
 * `{clientContent: {turns, turnComplete}}`. `turnComplete` defaults to true; an explicit
 * `turnComplete: undefined` overrides the default and so leaves the field out (the SDK spreads the
 * parameters over its defaults, and the server then reads false).
 */
export function clientContentMessage(p: LiveSendClientContentParameters = {}): ClientContentMessage {
  const params: LiveSendClientContentParameters = { turnComplete: true, ...p };
  const clientContent: LiveClientContent = {};
  if (params.turns !== null && params.turns !== undefined) {
    try {
      clientContent.turns = toContents(params.turns).map(contentToWire);
    } catch (cause) {
      // The SDK reports every conversion failure this way; the cause keeps the specific reason.
      throw new Error(`Failed to parse client content "turns", type: '${typeof params.turns}'`, { cause });
    }
  }
  if (params.turnComplete !== undefined) clientContent.turnComplete = params.turnComplete;
  return { clientContent };
}

function blobOf(v: unknown): GenaiBlob {
  if (isObject(v)) return v as GenaiBlob;
  throw new Error(`Could not parse input as Blob. Unsupported blob type: ${typeof v}`);
}

function blobWithMime(v: unknown, prefix: 'audio/' | 'image/'): GenaiBlob {
  const b = blobOf(v);
  if (typeof b.mimeType === 'string' && b.mimeType.startsWith(prefix)) return b;
  throw new Error(`Unsupported mime type: ${b.mimeType}`);
}

/**
 * `{realtimeInput: {…}}`. Every field given goes into the one message (the SDK never splits a
 * call). `media` (deprecated) becomes `mediaChunks: [media]`; an array is accepted as the SDK does.
 * `audio` must have an `audio/…` and `video` an `image/…` MIME type.
 */
export function realtimeInputMessage(p: LiveSendRealtimeInputParameters): RealtimeInputMessage {
  const src = p as Obj;
  const ri: LiveClientRealtimeInput = {};
  if (src.media != null) ri.mediaChunks = Array.isArray(src.media) ? src.media.map(blobOf) : [blobOf(src.media)];
  if (src.audio != null) ri.audio = blobWithMime(src.audio, 'audio/');
  if (p.audioStreamEnd != null) ri.audioStreamEnd = p.audioStreamEnd;
  if (src.video != null) ri.video = blobWithMime(src.video, 'image/');
  if (p.text != null) ri.text = p.text;
  if (p.activityStart != null) ri.activityStart = p.activityStart;
  if (p.activityEnd != null) ri.activityEnd = p.activityEnd;
  return { realtimeInput: ri };
}

/**
 * `{toolResponse: {functionResponses: […]}}`; a single response becomes a one-element array.
 * Each response needs `name`, `response` and, on the Gemini API, the `id` of the call it answers.
 */
export function toolResponseMessage(p: LiveSendToolResponseParameters): ToolResponseMessage {
  const given = (p as { functionResponses?: unknown } | undefined)?.functionResponses;
  if (given === null || given === undefined) throw new Error('functionResponses is required.');
  const list: unknown[] = Array.isArray(given) ? given : [given];
  if (list.length === 0) throw new Error('functionResponses is required.');
  for (const r of list) {
    if (!isObject(r) || !('name' in r) || !('response' in r)) {
      throw new Error(`Could not parse function response, type '${typeof r}'.`);
    }
    if (!('id' in r)) {
      throw new Error('A function response needs the `id` of the functionCall it answers (toolCall.functionCalls[].id) on the Gemini API.');
    }
  }
  return { toolResponse: { functionResponses: list as FunctionResponse[] } };
}

/** Which client message this is; throws for anything else (setup is never buffered or replayed). */
export function messageKind(m: Record<string, unknown>): ClientMessageKind {
  if (m.clientContent !== undefined) return 'clientContent';
  if (m.realtimeInput !== undefined) return 'realtimeInput';
  if (m.toolResponse !== undefined) return 'toolResponse';
  throw new Error(`Not a clientContent, realtimeInput or toolResponse message: {${Object.keys(m).join(', ')}}`);
}

// ---------------------------------------------------------------------------------------------
// Audio accounting
// ---------------------------------------------------------------------------------------------

/** Default PCM rate for input audio when the MIME type names none (the service assumes 16 kHz). */
export const DEFAULT_INPUT_RATE = 16000;

/** Bytes encoded by a base64 string: padding and whitespace do not count, unpadded input is fine. */
export function base64ByteLength(b64: string): number {
  let s = b64;
  // Whitespace is rare (JSON producers do not wrap), so only pay for stripping it when present.
  if (/\s/.test(s)) s = s.replace(/\s+/g, '');
  let n = s.length;
  while (n > 0 && s.charCodeAt(n - 1) === 61 /* '=' */) n--;
  return Math.floor((n * 3) / 4);
}

/** Sample rate of a PCM16 MIME type (`audio/pcm`, `audio/pcm;rate=24000`), or undefined if not PCM. */
export function pcmRate(mimeType: unknown): number | undefined {
  if (typeof mimeType !== 'string') return undefined;
  const [type, ...params] = mimeType.split(';');
  if (type.trim().toLowerCase() !== 'audio/pcm') return undefined;
  for (const param of params) {
    const [k, v] = param.split('=');
    if (k.trim().toLowerCase() === 'rate' && v !== undefined) {
      const rate = Number(v.trim());
      if (Number.isFinite(rate) && rate > 0) return rate;
    }
  }
  return DEFAULT_INPUT_RATE;
}

function blobSeconds(blob: unknown): number {
  if (!isObject(blob) || typeof blob.data !== 'string') return 0;
  const rate = pcmRate(blob.mimeType);
  if (rate === undefined) return 0;
  return base64ByteLength(blob.data) / (2 * rate); // 16-bit mono: 2 bytes per sample
}

/**
 * Seconds of PCM16 audio a realtimeInput message carries (`audio` plus any `mediaChunks`); 0 for
 * other messages and for non-PCM audio. Used to bound the replay buffer by duration.
 */
export function audioSeconds(m: Record<string, unknown>): number {
  const ri = m.realtimeInput;
  if (!isObject(ri)) return 0;
  let seconds = blobSeconds(ri.audio);
  if (Array.isArray(ri.mediaChunks)) for (const chunk of ri.mediaChunks) seconds += blobSeconds(chunk);
  return seconds;
}
