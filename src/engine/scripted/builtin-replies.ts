/**
 * Replies of the scripted engine when no scenario rule matches: deterministic, and useful enough
 * that an app under test sees every kind of output without configuration. Declared functions the
 * user names are called; everything else is answered in words that show what was understood.
 */
import type { Tool } from '../../protocol/client-schema.js';
import type { ContextTurn } from '../../session/context.js';
import { textOf } from '../../session/context.js';
import type { Step } from './scenario.js';

/** An extended-thinking model's first words to a request, in a turn of their own. */
export const BUILTIN_FILLER = 'Let me think about that.';

/** `filler`: the model answers every request with a filler turn first (extended thinking). */
export function builtinReply(user: ContextTurn, tools: readonly Tool[], filler = false): Step[] {
  const steps = answer(user, tools);
  return filler ? [{ filler: BUILTIN_FILLER }, ...steps] : steps;
}

function answer(user: ContextTurn, tools: readonly Tool[]): Step[] {
  const text = textOf(user).trim();
  const called = findNamedFunction(text, tools);
  if (called) return [{ text: `Calling ${called.name}.` }, { call: { name: called.name, args: argsFrom(text, called.parameters) } }];

  const audioSeconds = user.parts.reduce((s, p) => s + (p.kind === 'audio' ? p.seconds : 0), 0);
  const images = user.parts.filter((p) => p.kind === 'image').length;
  const heard: string[] = [];
  if (audioSeconds > 0 && !text) heard.push(`I heard ${audioSeconds.toFixed(1)} seconds of audio.`);
  if (images > 0) heard.push(`I received ${images} image${images === 1 ? '' : 's'}.`);
  if (text) {
    if (/^(hello|hi|hey|good (morning|afternoon|evening))\b/i.test(text)) {
      heard.unshift('Hello! This is relive, the Gemini Live emulator.');
    }
    heard.push(`You said: ${text}`);
  }
  if (heard.length === 0) heard.push('I am listening.');
  return [{ text: heard.join(' ') }];
}

export function builtinAfterTools(responses: readonly { name: string; response: Record<string, unknown> }[]): Step[] {
  const described = responses.map((r) => `${r.name} returned ${JSON.stringify(r.response)}`).join('; ');
  return [{ text: `The function ${described}.` }];
}

function findNamedFunction(text: string, tools: readonly Tool[]): { name: string; parameters?: Record<string, unknown> } | undefined {
  const lower = text.toLowerCase();
  for (const tool of tools) {
    for (const fd of tool.functionDeclarations ?? []) {
      const spoken = fd.name.toLowerCase().replace(/_/g, ' ');
      if (lower.includes(fd.name.toLowerCase()) || lower.includes(spoken)) {
        const parameters = (fd.parameters ?? fd.parametersJsonSchema) as Record<string, unknown> | undefined;
        return parameters ? { name: fd.name, parameters } : { name: fd.name };
      }
    }
  }
  return undefined;
}

/** Arguments from a JSON object or `key=value` pairs in the text; else example values for required ones. */
function argsFrom(text: string, schema: Record<string, unknown> | undefined): Record<string, unknown> {
  const json = /\{[\s\S]*\}/.exec(text);
  if (json) {
    try {
      const parsed: unknown = JSON.parse(json[0]);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // not JSON: fall through to key=value pairs
    }
  }
  const args: Record<string, unknown> = {};
  for (const m of text.matchAll(/(\w+)\s*=\s*("([^"]*)"|'([^']*)'|[^\s,;]+)/g)) {
    const quoted = m[3] ?? m[4];
    // An unquoted value ends before sentence punctuation: "city=Paris?" means Paris.
    args[m[1]!] = quoted !== undefined ? quoted : coerce(m[2]!.replace(/[?!.]+$/, ''));
  }
  if (Object.keys(args).length > 0) return args;
  const props = (schema?.properties ?? {}) as Record<string, { type?: string }>;
  const required = Array.isArray(schema?.required) ? (schema.required as string[]) : [];
  for (const name of required) args[name] = exampleValue(props[name]?.type);
  return args;
}

function coerce(raw: string): unknown {
  if (raw === 'true' || raw === 'false') return raw === 'true';
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  return raw;
}

function exampleValue(type: string | undefined): unknown {
  switch ((type ?? '').toUpperCase()) {
    case 'NUMBER':
    case 'INTEGER':
      return 1;
    case 'BOOLEAN':
      return true;
    case 'ARRAY':
      return [];
    case 'OBJECT':
      return {};
    default:
      return 'example';
  }
}
