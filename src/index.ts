/** `relive`: create a Gemini Live API server in a process of your own. */
export { createServer, type ReliveServer } from './server/create-server.js';
export type { ServerOptions } from './server/options.js';
export { ScriptedEngine, type ScriptedEngineOptions } from './engine/scripted/scripted-engine.js';
export { OpenAIEngine } from './engine/openai/openai-engine.js';
export { GeminiEngine, type GeminiEngineOptions } from './engine/gemini/gemini-engine.js';
export { sessionHandleStore } from './engine/gemini/session-handle-store.js';
export { loadScenario, parseScenario, type Scenario } from './engine/scripted/scenario.js';
export { ManualClock, ScaledClock, systemClock, type Clock } from './session/clock.js';
export type { Engine, EngineEvent, EngineRequest } from './session/engine.js';
export type { SpeechSynthesizer } from './session/speech.js';
