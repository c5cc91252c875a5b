/**
 * The emulator's model: deterministic replies from scenario rules, or built-in ones. It is
 * stateless over the history it is given, so a resumed or restored session continues a script
 * exactly where it was: after a function call, it resumes after that call's step.
 */
import { sleep, type Clock } from '../../session/clock.js';
import { isUserInput, textOf, type ContextTurn } from '../../session/context.js';
import type { Engine, EngineEvent, EngineRequest, EngineSession } from '../../session/engine.js';
import { builtinAfterTools, builtinReply } from './builtin-replies.js';
import { findRule, type UserInput } from './match.js';
import type { Scenario, Step } from './scenario.js';
import { renderTemplate } from './template.js';

export interface ScriptedEngineOptions {
  readonly clock: Clock;
  readonly scenario?: Scenario;
  /** Words per streamed text chunk: replies arrive as several `modelTurn` messages, as Gemini's do. */
  readonly wordsPerChunk?: number;
}

export class ScriptedEngine implements Engine {
  readonly name = 'scripted';
  private readonly scenario: Scenario;
  private readonly wordsPerChunk: number;

  constructor(private readonly options: ScriptedEngineOptions) {
    this.scenario = options.scenario ?? { rules: [], fallback: 'builtin' };
    this.wordsPerChunk = Math.max(1, options.wordsPerChunk ?? 4);
  }

  /** Nothing is kept per session: every generation reads the history it is given. */
  open(): EngineSession {
    return { generate: (request, signal) => this.generate(request, signal), close: () => undefined };
  }

  async *generate(request: EngineRequest, signal: AbortSignal): AsyncIterable<EngineEvent> {
    const { history } = request;
    const latest = lastUserInput(history, request.userTurns);
    // A NON_BLOCKING call's response may come after newer input: it continues the request that made the call.
    const answered = answeredCall(history, latest.index);
    const located = answered ? inputBefore(history, answered, latest) : latest;
    const callsDone = history.slice(located.index + 1, answered === undefined ? undefined : answered + 1).filter(hasCall).length;
    const responses = latestResponses(history.slice(located.index + 1));

    const rule = findRule(this.scenario.rules, located.input);
    let steps: readonly Step[];
    if (rule) steps = stepsAfterCall(rule.reply, callsDone);
    else if (this.scenario.fallback === 'silent') steps = [];
    else steps = callsDone > 0 ? builtinAfterTools(responses) : builtinReply(located.input.turn, request.config.tools, request.config.profile.fillerTurns);

    const values = { input: textOf(located.input.turn), response: responses[responses.length - 1]?.response };
    for (const step of steps) {
      if (step.delayMs) await sleep(this.options.clock, step.delayMs, signal);
      if ('text' in step || 'filler' in step) {
        // A model without filler turns says the filler as the start of its one turn.
        const ownTurn = request.config.profile.fillerTurns;
        const words = 'text' in step ? step.text : ownTurn ? step.filler : `${step.filler} `;
        const chunks = chunkWords(renderTemplate(words, values), this.wordsPerChunk);
        for (let i = 0; i < chunks.length; i++) {
          if (i > 0 && step.chunkDelayMs) await sleep(this.options.clock, step.chunkDelayMs, signal);
          yield { type: 'text', text: chunks[i]! };
        }
        if ('filler' in step && ownTurn) yield { type: 'turnBreak' };
      } else if ('thought' in step) {
        yield { type: 'thought', text: renderTemplate(step.thought, values) };
      } else if ('call' in step) {
        const calls = Array.isArray(step.call) ? step.call : [step.call];
        yield { type: 'toolCall', calls: calls.map((c) => (c.args ? { name: c.name, args: c.args } : { name: c.name })) };
        // A call step ends the generation; the script resumes after it when the response arrives.
        return;
      } else if ('close' in step) {
        yield { type: 'fail', close: step.close };
        return;
      }
    }
  }
}

/**
 * The input this generation answers, as a real model reads it. Clients send the words and the
 * request apart: LiveKit sends typed text with `turnComplete: false`, then a "." placeholder that
 * asks for the reply. So when the newest user turn has no words and no media (a placeholder), the
 * words are the user turns since the model last spoke; when there are none, the instructions the
 * client sent just before (model-role turns after the model's own, LiveKit's generateReply) — not
 * history it replays (a user turn and its model turn). `index`: the newest user turn.
 * Searches back from the end: a turn's cost must not grow with the length of the history.
 */
function lastUserInput(history: readonly ContextTurn[], userTurns: number): { index: number; input: UserInput } {
  let last = history.length - 1;
  while (last >= 0 && !isUserInput(history[last]!)) last--;
  if (last < 0) return { index: -1, input: { turn: { role: 'user', parts: [] }, number: 1 } };
  const number = Math.max(1, userTurns);
  const newest = history[last]!;
  if (!isPlaceholder(newest)) return { index: last, input: { turn: newest, number } };
  let first = last;
  while (first > 0 && isUserInput(history[first - 1]!)) first--;
  let words = history.slice(first, last).filter((t) => !isPlaceholder(t));
  if (words.length === 0) {
    let from = first;
    while (from > 0 && history[from - 1]!.fromClient) from--;
    const replayed = from > 0 && from < first && isUserInput(history[from - 1]!);
    if (from < first && !replayed) words = history.slice(from, first);
  }
  if (words.length === 0) return { index: last, input: { turn: newest, number } };
  return { index: last, input: { turn: { role: 'user', parts: words.flatMap((t) => t.parts) }, number } };
}

/** Text without a word in it ("." is LiveKit's placeholder) and no audio or image. */
function isPlaceholder(turn: ContextTurn): boolean {
  return turn.parts.every((p) => p.kind === 'text') && !/[\p{L}\p{N}]/u.test(textOf(turn));
}


const hasCall = (t: ContextTurn) => t.role === 'model' && t.parts.some((p) => p.kind === 'functionCall');

/**
 * When the history ends with function responses given after the newest input (a NON_BLOCKING
 * answer to an older request), the index of the model turn that made the call they answer.
 */
function answeredCall(history: readonly ContextTurn[], inputIndex: number): number | undefined {
  const last = history[history.length - 1];
  if (!last || last.role !== 'user' || isUserInput(last)) return undefined;
  const id = last.parts.find((p) => p.kind === 'functionResponse')?.id;
  for (let i = history.length - 2; i >= 0; i--) {
    const t = history[i]!;
    if (t.role === 'model' && t.parts.some((p) => p.kind === 'functionCall' && p.id === id)) return i < inputIndex ? i : undefined;
  }
  return undefined;
}

/** The user input the request that made the call at `callIndex` answered. */
function inputBefore(history: readonly ContextTurn[], callIndex: number, latest: { index: number; input: UserInput }): { index: number; input: UserInput } {
  let later = 0;
  for (let i = latest.index; i > callIndex; i--) if (isUserInput(history[i]!)) later++;
  for (let i = callIndex - 1; i >= 0; i--) {
    const turn = history[i]!;
    if (isUserInput(turn)) return { index: i, input: { turn, number: Math.max(1, latest.input.number - later) } };
  }
  return { index: -1, input: { turn: { role: 'user', parts: [] }, number: 1 } };
}

function latestResponses(after: readonly ContextTurn[]): { name: string; response: Record<string, unknown> }[] {
  for (let i = after.length - 1; i >= 0; i--) {
    const t = after[i]!;
    const rs = t.parts.flatMap((p) => (p.kind === 'functionResponse' ? [{ name: p.name, response: p.response }] : []));
    if (t.role === 'user' && rs.length > 0) return rs;
  }
  return [];
}

/** The steps left after the `callsDone`-th call step (all of them when no call was made yet). */
function stepsAfterCall(steps: readonly Step[], callsDone: number): readonly Step[] {
  if (callsDone === 0) return steps;
  let seen = 0;
  for (let i = 0; i < steps.length; i++) {
    if ('call' in steps[i]! && ++seen === callsDone) return steps.slice(i + 1);
  }
  return [];
}

/** Splits into chunks of `n` words, keeping the spaces so the chunks concatenate to the text. */
function chunkWords(text: string, n: number): string[] {
  const tokens = text.match(/\S+\s*/g) ?? [];
  const leading = /^\s*/.exec(text)![0];
  const chunks: string[] = [];
  for (let i = 0; i < tokens.length; i += n) chunks.push(tokens.slice(i, i + n).join(''));
  if (chunks.length > 0 && leading) chunks[0] = leading + chunks[0];
  return chunks;
}
