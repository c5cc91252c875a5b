/**
 * `relive-gemini`: a Gemini Live API server in a process of your own, in one of its three modes,
 * and the interfaces to write a part of your own (an engine, a store, a voice detector, a
 * recognizer, a synthesizer, a tokenizer). Listed by name: what is not here is internal.
 * The stores are in relive-gemini/store and the voice parts in relive-gemini/media, so that this
 * import loads no store driver.
 */
// The three modes.
export { createServer } from './modes/emulate.js';
export { createGateway, type GatewayOptions } from './modes/gateway.js';
export { createSelfHost, type SelfHostOptions } from './modes/self-host.js';
export type { ServerOptions, ClusterSettings } from './server/options.js';
export type { ReliveServer } from './server/create-server.js';
export type { SessionsView, SessionInfo, SessionConnectionInfo } from './server/sessions-view.js';
export type { SessionStatus } from './session/live-session.js';
export type { VoiceReport, VoiceFeature } from './server/voice-report.js';

// The engines relive has.
export { ScriptedEngine, type ScriptedEngineOptions } from './engine/scripted/scripted-engine.js';
export { OpenAIEngine, type OpenAIEngineOptions } from './engine/openai/openai-engine.js';
export { GeminiEngine, type GeminiEngineOptions } from './engine/gemini/gemini-engine.js';
export { sessionHandleStore } from './engine/gemini/session-handle-store.js';
export { loadScenario, parseScenario, type Scenario } from './engine/scripted/scenario.js';

export { ManualClock, ScaledClock, systemClock, type Clock, type Timer } from './session/clock.js';

// To write an engine: what a generation is asked, and what it answers.
export type { Engine, EngineEvent, EngineRequest, EngineSession, EngineSessionContext, HeardInput } from './session/engine.js';
export type { SessionConfig, ResponseModality } from './session/config.js';
export type { ContextTurn, ContextPart, Role } from './session/context.js';

// To write a voice part or a tokenizer (createServer's speech, speechRecognizer, vad, tokenizer).
export type { SpeechSynthesizer } from './session/speech.js';
export type { SpeechRecognizer, RecognitionStream, VoiceActivityDetector, VadStream, VadEvent, VadSettings } from './session/voice.js';
export type { TextTokenizer } from './session/tokens.js';

// To write a store (createServer's store), and relive's errors.
export { FencedError, type SessionStore, type SessionRecord, type NewSessionRecord, type Checkpoint, type CommitRequest } from './session/store.js';
export { ReliveError, hasCode, type ReliveErrorCode } from './errors.js';
