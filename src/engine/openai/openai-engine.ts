/**
 * A model behind any OpenAI-compatible chat completions endpoint (Ollama, vLLM, llama.cpp's
 * server, OpenAI). Each generation is one streamed `POST /chat/completions` with the whole
 * conversation; relive keeps the context itself. Audio in and out is the session's cascade
 * (VAD, speech recognizer, TTS): the model only ever sees and writes text. docs/engines.md.
 */
import { CloseReasons, truncateCloseReason, type CloseSpec } from '../../protocol/close-codes.js';
import type { Engine, EngineEvent, EngineRequest, EngineSession } from '../../session/engine.js';
import { closeForStatus, closeForStreamError, parseErrorBody } from './errors.js';
import { chatRequestBody } from './request.js';
import { readSse } from './sse.js';
import { ModelOutputError, ReplyAssembler, StreamedError, type ChatCompletion, type ChatCompletionChunk } from './stream.js';

export interface OpenAIEngineOptions {
  /** The API root, e.g. `http://localhost:11434/v1`; `/chat/completions` is appended. */
  baseUrl: string;
  /** The backend's model name, e.g. `llama3.2`; whatever model the client asks relive for. */
  model: string;
  /** Sent as `Authorization: Bearer …` when given. */
  apiKey?: string;
  fetch?: typeof fetch;
  /** Defaults for requests whose setup has no generationConfig.temperature / maxOutputTokens. */
  temperature?: number;
  maxTokens?: number;
  /** Where failures are explained (the client only gets the close code); pino's logger fits. */
  log?: { warn(obj: object, message: string): void };
}

export class OpenAIEngine implements Engine {
  readonly name = 'openai';
  readonly needsTranscripts = true;
  private readonly url: string;
  /** The path's version segment (`v1`), named in the model-not-found close as Google names its own. */
  private readonly apiVersion: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: OpenAIEngineOptions) {
    let base: URL;
    try {
      base = new URL(options.baseUrl);
    } catch {
      throw new Error(`OpenAI base URL ${JSON.stringify(options.baseUrl)} is not a URL`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error(`OpenAI base URL must be http or https: ${options.baseUrl}`);
    if (!options.model.trim()) throw new Error('OpenAI model name is empty');
    this.url = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
    this.apiVersion = /\/(v\d+\w*)\/*$/.exec(base.pathname)?.[1] ?? 'v1';
    this.fetchImpl = options.fetch ?? fetch;
  }

  get endpoint(): string {
    return this.url;
  }

  /** Nothing is kept per session: each generation sends the whole conversation (the backend is stateless). */
  open(): EngineSession {
    return { generate: (request, signal) => this.generate(request, signal), close: () => undefined };
  }

  async *generate(request: EngineRequest, signal: AbortSignal): AsyncIterable<EngineEvent> {
    const { model } = this.options;
    const body = chatRequestBody(model, request, this.options);
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream' };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;

    let response: Response;
    try {
      response = await this.fetchImpl(this.url, { method: 'POST', headers, body: JSON.stringify(body), signal });
    } catch (err) {
      if (signal.aborted) return;
      yield this.fail(CloseReasons.unavailable, `cannot reach ${this.url}: ${describe(err)}`);
      return;
    }
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      if (signal.aborted) return;
      const error = parseErrorBody(text);
      yield this.fail(closeForStatus(response.status, error, model, this.apiVersion), `HTTP ${response.status} from ${this.url}: ${error.message}`);
      return;
    }

    const reply = new ReplyAssembler();
    try {
      if ((response.headers.get('content-type') ?? '').includes('application/json')) {
        // A server that ignored `stream: true` answers with one chat.completion.
        yield* reply.pushCompletion(JSON.parse(await response.text()) as ChatCompletion);
      } else if (response.body) {
        for await (const event of readSse(response.body)) {
          if (event.data === '[DONE]') break;
          yield* reply.push(JSON.parse(event.data) as ChatCompletionChunk);
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof StreamedError) {
        yield this.fail(closeForStreamError(err.error, model, this.apiVersion), `error in the stream from ${this.url}: ${err.message}`);
      } else if (err instanceof SyntaxError) {
        yield this.fail(CloseReasons.internal, `unreadable chunk from ${this.url}: ${err.message}`);
      } else {
        yield this.fail(CloseReasons.unavailable, `the stream from ${this.url} broke: ${describe(err)}`);
      }
      return;
    }
    if (signal.aborted) return;
    let last: EngineEvent[];
    try {
      last = reply.finish();
    } catch (err) {
      // Unusable tool call arguments: thrown on, the turn fails with this detail (1011 Internal error).
      if (err instanceof ModelOutputError) this.options.log?.warn({ engine: this.name, model, detail: err.message }, 'unusable reply from the OpenAI-compatible backend');
      throw err;
    }
    yield* last;
  }

  private fail(close: CloseSpec, detail: string): EngineEvent {
    this.options.log?.warn({ engine: this.name, model: this.options.model, close: close.code, detail }, 'OpenAI-compatible backend failed the turn');
    return { type: 'fail', close: { code: close.code, reason: truncateCloseReason(close.reason) } };
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // undici hides the socket error (ECONNREFUSED, …) in `cause`.
  const cause = (err as Error & { cause?: unknown }).cause;
  return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
}
