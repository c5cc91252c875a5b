/**
 * `LiveConnectConfig` → the wire `setup` object, as `@google/genai` 3.1.0's Gemini-API converter
 * builds it (CLIENTS.md §3.3), so an app moving from `ai.live.connect` to relive-gemini/client sends the
 * same JSON. Differences, on purpose:
 *
 * - `sessionResumption` is always sent (the library needs handles to survive drops) and comes from
 *   the `resumption` argument, not from `config.sessionResumption`; `transparent` is allowed (the
 *   SDK throws on it in Gemini API mode, but relive serves it on every path, PROTOCOL.md §5.4).
 * - `httpOptions` and `abortSignal` are ignored: they steer the client's transport, not the
 *   session, and relive-gemini/client takes its transport and cancellation options elsewhere. (The SDK
 *   throws on `httpOptions` only because it cannot honour per-request options for Live.)
 * - Callable and MCP tools are refused instead of being resolved: resolving them is async, and
 *   the SDK's Live session never runs them anyway.
 * - The caller's config is never mutated (the SDK writes into `generationConfig` and rewrites
 *   function declaration schemas in place).
 * - `historyConfig` (3.1 models: history seeded with clientContent before the first turn) is
 *   passed through as given; the SDK does not know it yet.
 * - A model that already contains a `/` is kept as given (the SDK prefixes anything not starting
 *   with `models/` or `tunedModels/`), so full resource names pass through a gateway.
 *
 * Browser-safe: only types are imported from the SDK.
 */
import type { LiveConnectConfig } from '@google/genai';
import { contentToWire, pickDefined, rejectPresent, toContent, vertexOnlyError } from './client-messages.js';

type Obj = Record<string, unknown>;

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null;

/** Flattened LiveConnectConfig fields that land in `setup.generationConfig`, in the SDK's order. */
const GENERATION_FIELDS_BEFORE_SPEECH = ['responseModalities', 'temperature', 'topP', 'topK', 'maxOutputTokens', 'mediaResolution', 'seed'] as const;
const GENERATION_FIELDS_AFTER_SPEECH = ['thinkingConfig', 'enableAffectiveDialog'] as const;

/** Fields copied to `setup` unchanged, in the SDK's order. */
const PASS_THROUGH_FIELDS = ['inputAudioTranscription', 'outputAudioTranscription', 'realtimeInputConfig', 'contextWindowCompression', 'proactivity', 'historyConfig'] as const;

export interface ResumptionOptions {
  /** The newest resumable handle; absent for a new session. */
  handle?: string;
  /** Ask for `lastConsumedClientMessageIndex` in every `sessionResumptionUpdate`. */
  transparent?: boolean;
}

export function setupFromConfig(model: string, config: LiveConnectConfig | undefined, resumption: ResumptionOptions): Record<string, unknown> {
  const setup: Obj = { model: wireModel(model) };
  const c: Obj = (config ?? {}) as Obj;

  // The deprecated generationConfig is copied first; the flattened fields are merged into it.
  let gen: Obj | undefined;
  const genField = (): Obj => {
    if (gen === undefined) {
      gen = {};
      setup.generationConfig = gen;
    }
    return gen;
  };
  if (c.generationConfig != null) {
    if (!isObject(c.generationConfig)) throw new Error('generationConfig must be an object');
    // Shallow copy so merging never touches the caller's object; undefined entries are dropped.
    gen = omitUndefined(c.generationConfig);
    setup.generationConfig = gen;
  }
  for (const k of GENERATION_FIELDS_BEFORE_SPEECH) if (c[k] != null) mergeGenerationField(genField(), k, c[k]);
  if (c.speechConfig != null) {
    if (isObject(c.speechConfig) && 'multiSpeakerVoiceConfig' in c.speechConfig) {
      throw new Error('speechConfig.multiSpeakerVoiceConfig is not supported by the Live API.');
    }
    mergeGenerationField(genField(), 'speechConfig', c.speechConfig);
  }
  for (const k of GENERATION_FIELDS_AFTER_SPEECH) if (c[k] != null) mergeGenerationField(genField(), k, c[k]);

  if (c.systemInstruction != null) setup.systemInstruction = contentToWire(toContent(c.systemInstruction));
  if (c.tools != null) setup.tools = toolsToWire(c.tools);

  setup.sessionResumption = {
    ...(resumption.handle !== undefined ? { handle: resumption.handle } : {}),
    ...(resumption.transparent ? { transparent: true } : {}),
  };

  for (const k of PASS_THROUGH_FIELDS) if (c[k] != null) setup[k] = c[k];
  // Vertex-only; the Gemini API would reject it (the SDK throws too).
  if (c.explicitVadSignal !== undefined) throw vertexOnlyError('explicitVadSignal');
  if (c.avatarConfig != null) setup.avatarConfig = c.avatarConfig;
  if (c.safetySettings != null) setup.safetySettings = Array.isArray(c.safetySettings) ? c.safetySettings.map(safetySettingToWire) : c.safetySettings;
  if (c.translationConfig != null) mergeGenerationField(genField(), 'translationConfig', c.translationConfig);
  if (c.labels != null) setup.labels = c.labels;
  return setup;
}

/** `models/<m>` unless the name already has a path; the SDK's guards against URL tricks are kept. */
function wireModel(model: string): string {
  if (!model || typeof model !== 'string') throw new Error('model is required and must be a string');
  if (model.includes('..') || model.includes('?') || model.includes('&')) throw new Error(`invalid model name: ${model}`);
  return model.includes('/') ? model : `models/${model}`;
}

function omitUndefined(o: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out;
}

/**
 * Sets a flattened field in generationConfig with the SDK's rule for a key the deprecated
 * generationConfig already holds (its setValueByPath): a falsy or empty flattened value, or the
 * same value, keeps the existing one; two objects (arrays included) are merged key by key, the
 * flattened one winning; two different non-empty scalars throw. So `temperature` in both throws,
 * but `temperature: 0` next to `generationConfig.temperature: 0.5` silently keeps 0.5.
 */
function mergeGenerationField(gen: Obj, key: string, value: unknown): void {
  const existing = gen[key];
  if (existing === undefined) {
    gen[key] = value;
    return;
  }
  if (!value || (typeof value === 'object' && Object.keys(value).length === 0) || value === existing) return;
  if (isObject(existing) && typeof value === 'object') {
    gen[key] = Object.assign(Array.isArray(existing) ? [...existing] : { ...existing }, value);
    return;
  }
  throw new Error(`Cannot set value for an existing key. Key: ${key} (set it either in generationConfig or on the config, not both)`);
}

function safetySettingToWire(s: unknown): unknown {
  if (!isObject(s)) return s;
  const out = pickDefined(s, ['category']);
  rejectPresent(s, ['method']);
  Object.assign(out, pickDefined(s, ['threshold']));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Tools
// ---------------------------------------------------------------------------------------------

/** Tool fields that exist only on Vertex AI; the SDK throws on them in Gemini API mode. */
const VERTEX_ONLY_TOOL_FIELDS = ['retrieval', 'enterpriseWebSearch', 'exaAiSearch', 'parallelAiSearch'] as const;

function toolsToWire(tools: unknown): unknown[] {
  if (!Array.isArray(tools)) throw new Error('tools must be an array of Tool objects');
  return tools.map((tool, i) => {
    if (!isObject(tool)) throw new Error(`tools[${i}] is not a Tool object`);
    if (typeof tool.callTool === 'function' || typeof tool.tool === 'function' || 'inputSchema' in tool) {
      throw new Error(
        `tools[${i}] is a callable or MCP tool, which relive-gemini/client does not support: pass its declaration ` +
          '(e.g. `await callableTool.tool()`) and answer toolCall messages with sendToolResponse.',
      );
    }
    return toolToWire(tool);
  });
}

/** A Tool as the SDK sends it: known fields in the SDK's order, unknown ones dropped. */
function toolToWire(tool: Obj): Obj {
  const out: Obj = {};
  rejectPresent(tool, ['retrieval']);
  if (tool.googleMaps != null) out.googleMaps = googleMapsToWire(tool.googleMaps);
  if (tool.mcpServers != null) out.mcpServers = tool.mcpServers;
  if (tool.codeExecution != null) out.codeExecution = tool.codeExecution;
  if (tool.computerUse != null) out.computerUse = tool.computerUse;
  rejectPresent(tool, VERTEX_ONLY_TOOL_FIELDS);
  if (tool.functionDeclarations != null) {
    const decls = tool.functionDeclarations;
    out.functionDeclarations = Array.isArray(decls) ? decls.map(functionDeclarationToWire) : decls;
  }
  if (tool.googleSearch != null) out.googleSearch = googleSearchToWire(tool.googleSearch);
  if (tool.googleSearchRetrieval != null) out.googleSearchRetrieval = tool.googleSearchRetrieval;
  if (tool.urlContext != null) out.urlContext = tool.urlContext;
  if (tool.fileSearch != null) out.fileSearch = tool.fileSearch;
  return out;
}

function googleMapsToWire(v: unknown): Obj {
  if (!isObject(v)) return {};
  const out: Obj = {};
  if (isObject(v.authConfig)) {
    const auth = v.authConfig;
    out.authConfig = pickDefined(auth, ['apiKey']);
    rejectPresent(auth, ['apiKeyConfig', 'authType', 'googleServiceAccountConfig', 'httpBasicAuthConfig', 'oauthConfig', 'oidcConfig']);
  } else if (v.authConfig != null) out.authConfig = {};
  if (v.enableWidget != null) out.enableWidget = v.enableWidget;
  rejectPresent(v, ['groundingTypes']);
  return out;
}

function googleSearchToWire(v: unknown): Obj {
  if (!isObject(v)) return {};
  rejectPresent(v, ['blockingConfidence', 'excludeDomains']);
  return pickDefined(v, ['searchTypes', 'timeRangeFilter']);
}

/**
 * A FunctionDeclaration with its `parameters` / `response` made acceptable to the service, as the
 * SDK does: a plain JSON Schema (lower-case types, `["string","null"]`, nullable `anyOf`) becomes a
 * Gemini Schema; one that declares `$schema` is moved to `parametersJsonSchema` /
 * `responseJsonSchema`, which take JSON Schema verbatim.
 */
function functionDeclarationToWire(decl: unknown): unknown {
  if (!isObject(decl)) return decl;
  const out: Obj = { ...decl };
  for (const [schemaKey, jsonKey] of [
    ['parameters', 'parametersJsonSchema'],
    ['response', 'responseJsonSchema'],
  ] as const) {
    const schema = out[schemaKey];
    if (!schema || !isObject(schema)) continue;
    if (!('$schema' in schema)) out[schemaKey] = toGeminiSchema(schema);
    else if (!out[jsonKey]) {
      out[jsonKey] = schema;
      delete out[schemaKey];
    }
  }
  return out;
}

/** Gemini Schema `type` values (the SDK's `Type` enum). */
const GEMINI_TYPES = new Set(['TYPE_UNSPECIFIED', 'STRING', 'NUMBER', 'INTEGER', 'BOOLEAN', 'ARRAY', 'OBJECT', 'NULL']);

function geminiType(t: unknown): string {
  const upper = String(t).toUpperCase();
  return GEMINI_TYPES.has(upper) ? upper : 'TYPE_UNSPECIFIED';
}

const isNullSchema = (s: unknown): boolean => isObject(s) && s.type === 'null';

/**
 * JSON Schema → Gemini Schema with the SDK's rules: types upper-cased (unknown ones become
 * TYPE_UNSPECIFIED); `null` in a type list or `anyOf` turns into `nullable: true`; a two-way
 * `anyOf` with null collapses to the other branch (its siblings are dropped, as in the SDK);
 * `items`, `anyOf` and `properties` recurse; `additionalProperties` is dropped (the Schema has no
 * such field); everything else is copied.
 */
function toGeminiSchema(input: Obj): Obj {
  const out: Obj = {};
  if (input.type && input.anyOf) throw new Error('A schema cannot set both type and anyOf.');
  let schema = input;
  const anyOf = schema.anyOf;
  if (Array.isArray(anyOf) && anyOf.length === 2) {
    const other = isNullSchema(anyOf[0]) ? anyOf[1] : isNullSchema(anyOf[1]) ? anyOf[0] : undefined;
    if (other !== undefined) {
      out.nullable = true;
      schema = isObject(other) ? other : {};
    }
  }
  if (Array.isArray(schema.type)) {
    const types = schema.type as unknown[];
    if (types.includes('null')) out.nullable = true;
    const nonNull = types.filter((t) => t !== 'null');
    if (nonNull.length === 1) out.type = geminiType(nonNull[0]);
    else out.anyOf = nonNull.map((t) => ({ type: geminiType(t) }));
  }
  for (const [key, value] of Object.entries(schema)) {
    if (value == null) continue;
    switch (key) {
      case 'type':
        if (value === 'null') throw new Error('A schema type cannot be only null.');
        if (!Array.isArray(value)) out.type = geminiType(value);
        break;
      case 'items':
        out.items = isObject(value) ? toGeminiSchema(value) : value;
        break;
      case 'anyOf':
        if (Array.isArray(value)) {
          const branches: Obj[] = [];
          for (const branch of value) {
            if (isNullSchema(branch)) out.nullable = true;
            else branches.push(isObject(branch) ? toGeminiSchema(branch) : {});
          }
          out.anyOf = branches;
        } else out.anyOf = value;
        break;
      case 'properties':
        if (isObject(value)) {
          const props: Obj = {};
          for (const [name, prop] of Object.entries(value)) props[name] = isObject(prop) ? toGeminiSchema(prop) : prop;
          out.properties = props;
        } else out.properties = value;
        break;
      case 'additionalProperties':
        break;
      default:
        out[key] = value;
    }
  }
  return out;
}
