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
  | { readonly type: 'usage'; readonly promptTokens: number; readonly responseTokens: number }
  /**
   * The model's own speech (a native-audio model behind the gateway): base64 PCM16, sent to the
   * client as it is instead of being synthesized from text. AUDIO modality only.
   */
  | { readonly type: 'audio'; readonly data: string; readonly mimeType: string }
  /** What the model's own speech says (its output transcription): the spoken turn's words in the history. */
  | { readonly type: 'outputTranscript'; readonly text: string };

/** Who is heard, for an engine that hears realtime input itself (`Engine.hear`). */
export interface Listener {
  readonly sessionId: string;
  readonly config: SessionConfig;
  /**
   * What the engine made of the user's speech, whenever it knows (during the speech or after
   * the turn): the session keeps it as the speech's transcript and sends it as
   * inputTranscription when asked for. Pieces concatenate as they do on the wire.
   */
  transcribed(text: string): void;
}

/** Realtime input for an engine that hears it itself (`Engine.hear`). */
export type HeardInput =
  | { readonly type: 'audio'; readonly data: string; readonly mimeType: string }
  | { readonly type: 'video'; readonly data: string; readonly mimeType: string }
  /** The user began speaking: relive's voice detector, or the client's activityStart in manual mode. */
  | { readonly type: 'activityStart' };

export interface Engine {
  readonly name: string;
  /**
   * The model reads text only: speech must be transcribed for it, whether or not the client asked
   * for inputTranscription (the OpenAI-compatible cascade, the gateway's text upstream).
   */
  readonly needsTranscripts?: boolean;
  /**
   * The engine hears the user's audio and sees their video itself, as it arrives (the gateway
   * forwards it to a model that listens). relive still decides where turns end; a generation
   * then answers what was heard. Such an engine reports its own input transcripts
   * (`listener.transcribed`), so relive runs no speech recognizer for its sessions.
   */
  hear?(listener: Listener, input: HeardInput): void;
  /** Streams one generation. Stops promptly when `signal` aborts (barge-in). */
  generate(request: EngineRequest, signal: AbortSignal): AsyncIterable<EngineEvent>;
  /** The session's connection ended: let go of what is held for it. */
  release?(sessionId: string): void;
  /** The server is closing: let go of everything (the gateway's upstream sessions). */
  close?(): void;
  /** What the engine holds for a session, for the control API (the gateway's upstream state). */
  describe?(sessionId: string): Record<string, unknown> | undefined;
}
