/** `relive-gemini`: create a Gemini Live API server in a process of your own. */
export { createServer } from './modes/emulate.js';
export type { ReliveServer } from './server/create-server.js';
export type { ServerOptions, ClusterSettings } from './server/options.js';
export { ScriptedEngine, type ScriptedEngineOptions } from './engine/scripted/scripted-engine.js';
export { OpenAIEngine, type OpenAIEngineOptions } from './engine/openai/openai-engine.js';
export { GeminiEngine, type GeminiEngineOptions } from './engine/gemini/gemini-engine.js';
export { sessionHandleStore } from './engine/gemini/session-handle-store.js';
export { loadScenario, parseScenario, type Scenario } from './engine/scripted/scenario.js';
export { ManualClock, ScaledClock, systemClock, type Clock } from './session/clock.js';
export type { Engine, EngineEvent, EngineRequest } from './session/engine.js';
export type { SpeechSynthesizer } from './session/speech.js';
// The types of createServer's store, speechRecognizer and vad options; the implementations are in
// relive-gemini/store and relive-gemini/media.
export type { SessionStore } from './session/store.js';
export type { SpeechRecognizer, RecognitionStream, VoiceActivityDetector } from './session/voice.js';
