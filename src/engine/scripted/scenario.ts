/**
 * Scenario files for the scripted engine (`--script FILE`, JSON or YAML): rules that match the
 * user's input and reply with text, function calls, pauses or a failure.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { CloseReasons } from '../../protocol/close-codes.js';
import { describeIssues, firstLine, readFailure, showValue } from '../../input-errors.js';

const closeByName = z.enum(Object.keys(CloseReasons) as [keyof typeof CloseReasons, ...(keyof typeof CloseReasons)[]]);
const closeSpec = z.union([
  closeByName.transform((name) => ({ ...CloseReasons[name] })),
  z.object({ code: z.number().int().min(1000).max(4999), reason: z.string().default('') }),
]);

const call = z.object({ name: z.string().min(1), args: z.record(z.string(), z.unknown()).optional() });

const delay = { delayMs: z.number().min(0).optional() };

export const Step = z.union([
  z.object({ text: z.string(), chunkDelayMs: z.number().min(0).optional(), ...delay }).strict(),
  /** Words that end their own turn before the rest of the answer (an extended-thinking filler). */
  z.object({ filler: z.string(), chunkDelayMs: z.number().min(0).optional(), ...delay }).strict(),
  z.object({ thought: z.string(), ...delay }).strict(),
  z.object({ call: z.union([call, z.array(call).min(1)]), ...delay }).strict(),
  z.object({ close: closeSpec, ...delay }).strict(),
  z.object({ delayMs: z.number().min(0) }).strict(),
]);

export const Match = z
  .object({
    text: z.string().optional(),
    regex: z.string().optional(),
    audio: z.boolean().optional(),
    turn: z.number().int().min(1).optional(),
  })
  .strict();

export const Rule = z
  .object({
    name: z.string().optional(),
    match: Match.default({}),
    reply: z.array(Step).min(1),
  })
  .strict();

export const Scenario = z
  .object({
    rules: z.array(Rule).default([]),
    /** What answers input no rule matches: relive's built-in replies, or nothing at all. */
    fallback: z.enum(['builtin', 'silent']).default('builtin'),
  })
  .strict();

export type Step = z.infer<typeof Step>;
export type Rule = z.infer<typeof Rule>;
export type Scenario = z.infer<typeof Scenario>;

/** The keys that name a step's kind; a step holds one of them. */
const STEP_KINDS = ['text', 'filler', 'thought', 'call', 'close', 'delayMs'] as const;

/** The fields an object at this place of a scenario may have, for "unknown field" messages. */
function allowedFields(path: readonly PropertyKey[]): readonly string[] | undefined {
  if (path.length === 0) return Object.keys(Scenario.shape);
  if (path.length === 2 && path[0] === 'rules') return Object.keys(Rule.shape);
  if (path.length === 3 && path[0] === 'rules' && path[2] === 'match') return Object.keys(Match.shape);
  return undefined;
}

function explainIssue(issue: z.core.$ZodIssue, value: unknown): string | undefined {
  const path = issue.path;
  const isStep = path.length === 4 && path[0] === 'rules' && path[2] === 'reply';
  if (isStep && issue.code === 'invalid_union') {
    const kinds = `a step is one of ${STEP_KINDS.join(', ')} (docs/scenarios.md)`;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return `${showValue(value)} is not a step; ${kinds}`;
    if (!STEP_KINDS.some((k) => k in value)) return `unknown step ${showValue(value)}; ${kinds}`;
    return undefined;
  }
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedFields(path);
    if (allowed) return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}; allowed: ${allowed.join(', ')}`;
  }
  return undefined;
}

/** `name` (the file's) goes in front of every message, so a user knows where to look. */
export function parseScenario(source: string, format: 'json' | 'yaml', name = 'scenario'): Scenario {
  let raw: unknown;
  try {
    raw = format === 'json' ? JSON.parse(source) : parseYaml(source);
  } catch (err) {
    throw new Error(`${name}: not valid ${format === 'json' ? 'JSON' : 'YAML'}: ${firstLine(err)}`);
  }
  const parsed = Scenario.safeParse(raw ?? {});
  if (!parsed.success) throw new Error(describeIssues(parsed.error, raw ?? {}, { source: name, explain: explainIssue }));
  parsed.data.rules.forEach((rule, i) => {
    if (rule.match.regex === undefined) return;
    try {
      new RegExp(rule.match.regex, 'i'); // fail at load, not mid-session
    } catch (err) {
      throw new Error(`${name}: rules[${i}].match.regex: not a valid regular expression: ${firstLine(err)}`);
    }
  });
  return parsed.data;
}

export async function loadScenario(path: string): Promise<Scenario> {
  let source: string;
  try {
    source = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`--script ${path}: ${readFailure(err)}`);
  }
  const ext = extname(path).toLowerCase();
  return parseScenario(source, ext === '.json' ? 'json' : 'yaml', path);
}
