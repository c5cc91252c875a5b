/**
 * Scenario files for the scripted engine (`--script FILE`, JSON or YAML): rules that match the
 * user's input and reply with text, function calls, pauses or a failure.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { CloseReasons } from '../../protocol/close-codes.js';

const closeByName = z.enum(Object.keys(CloseReasons) as [keyof typeof CloseReasons, ...(keyof typeof CloseReasons)[]]);
const closeSpec = z.union([
  closeByName.transform((name) => ({ ...CloseReasons[name] })),
  z.object({ code: z.number().int().min(1000).max(4999), reason: z.string().default('') }),
]);

const call = z.object({ name: z.string().min(1), args: z.record(z.string(), z.unknown()).optional() });

const delay = { delayMs: z.number().min(0).optional() };

export const Step = z.union([
  z.object({ text: z.string(), chunkDelayMs: z.number().min(0).optional(), ...delay }).strict(),
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

export function parseScenario(source: string, format: 'json' | 'yaml'): Scenario {
  const raw: unknown = format === 'json' ? JSON.parse(source) : parseYaml(source);
  const parsed = Scenario.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`invalid scenario at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  for (const rule of parsed.data.rules) {
    if (rule.match.regex !== undefined) new RegExp(rule.match.regex, 'i'); // fail at load, not mid-session
  }
  return parsed.data;
}

export async function loadScenario(path: string): Promise<Scenario> {
  const source = await readFile(path, 'utf8');
  const ext = extname(path).toLowerCase();
  return parseScenario(source, ext === '.json' ? 'json' : 'yaml');
}
