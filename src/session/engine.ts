/**
 * What the session core needs from a model (DESIGN.md "Engine"). Declared here so that engines
 * (scripted, openai, gemini) depend on the core and not the other way round.
 */
import type { CloseSpec } from '../protocol/close-codes.js';
import type { SessionConfig } from './config.js';
import type { ContextTurn } from './context.js';

export interface EngineRequest {
  /** The session asking: engines that hold state per session (the gateway's upstream) key it on this. */
  readonly sessionId: string;
  readonly config: SessionConfig;
  /** The whole conversation so far, ending with the input this generation answers. */
  readonly history: readonly ContextTurn[];
  /** How many user input turns the history holds, kept by the session so no engine counts them per turn. */
  readonly userTurns: number;
}

export type EngineEvent =
  /** A chunk of the reply; spoken by the session in AUDIO modality. */
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'thought'; readonly text: string }
  /**
   * Function calls. After a call to a blocking function the engine ends its stream; the session
   * asks again, with the responses in the history, once the client has answered.
   */
  | { readonly type: 'toolCall'; readonly calls: readonly { name: string; args?: Record<string, unknown> }[] }
  /** The model fails the connection, e.g. a scripted 1011. */
  | { readonly type: 'fail'; readonly close: CloseSpec }
  /** What the backend counted for this generation, when it reports it: usageMetadata uses it over relive's estimate. */
  | { readonly type: 'usage'; readonly promptTokens: number; readonly responseTokens: number };

export interface Engine {
  readonly name: string;
  /**
   * The model reads text only: speech must be transcribed for it, whether or not the client asked
   * for inputTranscription (the OpenAI-compatible cascade, the gateway's text upstream).
   */
  readonly needsTranscripts?: boolean;
  /** Streams one generation. Stops promptly when `signal` aborts (barge-in). */
  generate(request: EngineRequest, signal: AbortSignal): AsyncIterable<EngineEvent>;
  /** The session's connection ended: let go of what is held for it. */
  release?(sessionId: string): void;
  /** The server is closing: let go of everything (the gateway's upstream sessions). */
  close?(): void;
  /** What the engine holds for a session, for the control API (the gateway's upstream state). */
  describe?(sessionId: string): Record<string, unknown> | undefined;
}
