/**
 * Assembles a streamed chat completion: text and reasoning deltas become events as they come;
 * tool calls, which arrive as fragments (id and name first, then pieces of the JSON arguments),
 * are put together by index and handed over once, complete, when the stream ends.
 */
import type { EngineEvent } from '../../session/engine.js';
import { errorFields, type BackendError } from './errors.js';

interface ToolCallDelta {
  index?: number;
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: unknown };
}

interface Delta {
  role?: string;
  content?: string | null;
  refusal?: string | null;
  /** vLLM, llama.cpp, DeepSeek: the model's reasoning. */
  reasoning_content?: string | null;
  /** Ollama, OpenRouter: the same under another name. */
  reasoning?: string | null;
  tool_calls?: ToolCallDelta[] | null;
  /** The deprecated single-function form, still sent by a few servers. */
  function_call?: { name?: string; arguments?: unknown } | null;
}

export interface ChatCompletionChunk {
  id?: string;
  object?: string;
  choices?: { index?: number; delta?: Delta | null; finish_reason?: string | null }[] | null;
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  error?: unknown;
}

/** A complete (non-streamed) `chat.completion`, from a server that ignored `stream: true`. */
export interface ChatCompletion {
  choices?: { index?: number; message?: Delta | null; finish_reason?: string | null }[] | null;
  usage?: ChatCompletionChunk['usage'];
  error?: unknown;
}

/** The model's output could not be used: a detail for the log, the turn fails. */
export class ModelOutputError extends Error {}

/** The server reported an error inside a 200 stream. */
export class StreamedError extends Error {
  constructor(readonly error: BackendError) {
    super(error.message);
  }
}

interface PartialCall {
  id: string;
  name: string;
  args: string;
}

type Call = { name: string; args?: Record<string, unknown> };

export class ReplyAssembler {
  private readonly calls: PartialCall[] = [];
  private readonly byIndex = new Map<number, PartialCall>();
  private usage: { promptTokens: number; responseTokens: number } | undefined;
  finishReason: string | undefined;

  /** The events a chunk releases at once: text and thoughts. Throws StreamedError for an `error` chunk. */
  push(chunk: ChatCompletionChunk): EngineEvent[] {
    if (isObject(chunk.error)) throw new StreamedError(errorFields(chunk.error));
    if (typeof chunk.error === 'string') throw new StreamedError({ message: chunk.error });
    // Some servers repeat a running count on every chunk: the last one is the total.
    if (chunk.usage && typeof chunk.usage.prompt_tokens === 'number') {
      this.usage = { promptTokens: chunk.usage.prompt_tokens, responseTokens: chunk.usage.completion_tokens ?? 0 };
    }
    const events: EngineEvent[] = [];
    // Only the first choice: relive asks for one (n defaults to 1).
    const choice = chunk.choices?.find((c) => (c.index ?? 0) === 0);
    if (!choice) return events;
    const delta = choice.delta ?? {};
    const thought = delta.reasoning_content ?? delta.reasoning;
    if (typeof thought === 'string' && thought !== '') events.push({ type: 'thought', text: thought });
    if (typeof delta.content === 'string' && delta.content !== '') events.push({ type: 'text', text: delta.content });
    if (typeof delta.refusal === 'string' && delta.refusal !== '') events.push({ type: 'text', text: delta.refusal });
    for (const tc of delta.tool_calls ?? []) this.addCallDelta(tc);
    if (delta.function_call) this.addCallDelta({ index: 0, function: delta.function_call });
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
    return events;
  }

  /** A whole `chat.completion`, as one big chunk. */
  pushCompletion(completion: ChatCompletion): EngineEvent[] {
    const choice = completion.choices?.find((c) => (c.index ?? 0) === 0);
    const message = choice?.message ?? {};
    return this.push({
      error: completion.error,
      usage: completion.usage,
      choices: [
        {
          index: 0,
          finish_reason: choice?.finish_reason ?? null,
          delta: { ...message, tool_calls: message.tool_calls?.map((tc, index) => ({ ...tc, index })) ?? null },
        },
      ],
    });
  }

  /** What the end of the stream releases: the usage, then the calls (after the usage: a blocking call ends the generation). */
  finish(): EngineEvent[] {
    const events: EngineEvent[] = [];
    if (this.usage) events.push({ type: 'usage', ...this.usage });
    if (this.calls.length > 0) events.push({ type: 'toolCall', calls: this.calls.map(complete) });
    return events;
  }

  private addCallDelta(tc: ToolCallDelta): void {
    let call = typeof tc.index === 'number' ? this.byIndex.get(tc.index) : tc.id ? this.calls.find((c) => c.id === tc.id) : this.calls[this.calls.length - 1];
    // A new id at a used index is a new call: some servers number every call 0.
    if (call && tc.id && call.id && tc.id !== call.id && call.name) call = undefined;
    if (!call) {
      call = { id: '', name: '', args: '' };
      this.calls.push(call);
    }
    if (typeof tc.index === 'number') this.byIndex.set(tc.index, call);
    if (tc.id && !call.id) call.id = tc.id;
    const fn = tc.function;
    if (fn?.name && !call.name) call.name = fn.name;
    if (typeof fn?.arguments === 'string') call.args += fn.arguments;
    // Not per the reference, but seen: the arguments as an object rather than JSON text.
    else if (isObject(fn?.arguments)) call.args += JSON.stringify(fn.arguments);
  }
}

function complete(call: PartialCall, i: number): Call {
  if (!call.name) throw new ModelOutputError(`tool call ${i} from the model has no function name`);
  const text = call.args.trim();
  if (text === '') return { name: call.name, args: {} };
  let args: unknown;
  try {
    args = JSON.parse(text);
  } catch {
    throw new ModelOutputError(`the model called ${call.name} with arguments that are not valid JSON: ${preview(text)}`);
  }
  if (!isObject(args)) throw new ModelOutputError(`the model called ${call.name} with arguments that are not a JSON object: ${preview(text)}`);
  return { name: call.name, args };
}

function preview(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
