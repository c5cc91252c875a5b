/**
 * What the session core needs from a model (DESIGN.md "Engine"). Declared here so that engines
 * (scripted, openai, gemini) depend on the core and not the other way round.
 */
import type { Registry } from 'prom-client';
import type { CloseSpec } from '../protocol/close-codes.js';
import type { SessionConfig } from './config.js';
import type { ContextTurn } from './context.js';

export interface EngineRequest {
  /** The session's settings when this generation began. */
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
  | { readonly type: 'outputTranscript'; readonly text: string }
  /**
   * The model ends this turn and answers the same request in another: an extended-thinking
   * filler turn ("let me check…") before the answer. The turn ends with turnComplete
   * `interactionStatus: IN_PROGRESS`; the rest of the stream is the next turn. On a model
   * profile without filler turns it is ignored: the stream is one turn.
   */
  | { readonly type: 'turnBreak' };

/** What a session tells the engine when it opens its EngineSession (`Engine.open`). */
export interface EngineSessionContext {
  /**
   * The relive session. A resumed session opens a new EngineSession with the same id: an engine
   * that keeps something per session across connections (the gateway's upstream) finds it by this.
   */
  readonly sessionId: string;
  /** The session's settings now: a getter, since contextUpdate changes them during the session. */
  readonly config: SessionConfig;
  /**
   * What the engine made of the user's speech, whenever it knows (during the speech or after
   * the turn): the session keeps it as the speech's transcript and sends it as
   * inputTranscription when asked for. Pieces concatenate as they do on the wire. For an engine
   * that hears the input itself (`Engine.hearsInput`).
   */
  transcribed(text: string): void;
}

/** Realtime input for an engine that hears it itself (`EngineSession.hear`). */
export type HeardInput =
  | { readonly type: 'audio'; readonly data: string; readonly mimeType: string }
  | { readonly type: 'video'; readonly data: string; readonly mimeType: string }
  /** The user began speaking: relive's voice detector, or the client's activityStart in manual mode. */
  | { readonly type: 'activityStart' };

/**
 * One session's model: opened when the session is created or resumed (each connection's session
 * object opens its own), closed when that connection ends. Whatever the engine holds for the
 * session lives here rather than in maps keyed by session id.
 */
export interface EngineSession {
  /** Streams one generation. Stops promptly when `signal` aborts (barge-in). */
  generate(request: EngineRequest, signal: AbortSignal): AsyncIterable<EngineEvent>;
  /**
   * The user's realtime audio and video as they arrive, and where their speech begins; called
   * only when the engine says `hearsInput`. relive still decides where turns end; a generation
   * then answers what was heard.
   */
  hear?(input: HeardInput): void;
  /** The session's connection ended: let go of what is held for it (the session may be resumed later). */
  close(): void;
  /** What the engine holds for the session, for the control API (the gateway's upstream state). */
  describe?(): Record<string, unknown> | undefined;
}

export interface Engine {
  readonly name: string;
  /**
   * The model reads text only: speech must be transcribed for it, whether or not the client asked
   * for inputTranscription (the OpenAI-compatible cascade, the gateway's text upstream).
   */
  readonly needsTranscripts?: boolean;
  /**
   * The engine hears the user's audio and sees their video itself (its sessions implement
   * `hear`), as the gateway does by forwarding them to a model that listens. Such an engine
   * reports its own input transcripts (`EngineSessionContext.transcribed`) and may speak for
   * itself, so relive runs no speech recognizer for its sessions and needs no synthesizer for them.
   */
  readonly hearsInput?: boolean;
  /** A session begins (created, or resumed on a new connection). */
  open(context: EngineSessionContext): EngineSession;
  /** The engine's own metrics join the server's /metrics (the gateway's context re-seeds). */
  registerMetrics?(registry: Registry): void;
  /** The server is closing: let go of everything (the gateway's upstream sessions). */
  close?(): void | Promise<void>;
}
