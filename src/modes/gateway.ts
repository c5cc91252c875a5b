/**
 * The gateway mode: relive in front of Gemini Live. Each session holds an upstream session whose
 * handle is kept in relive's own store, so that a restarted relive on the same store resumes the
 * upstream sessions rather than re-seeding them.
 */
import { GeminiEngine, type GeminiEngineOptions } from '../engine/gemini/gemini-engine.js';
import { sessionHandleStore } from '../engine/gemini/session-handle-store.js';
import { assembleServer, type ReliveServer } from '../server/create-server.js';
import type { ServerOptions } from '../server/options.js';
import type { ServerParts } from '../server/parts.js';
import { baseParts } from './base.js';
import { defaultRecognizer, defaultSpeech, voiceParts } from './voice.js';

export interface GatewayOptions extends Omit<ServerOptions, 'engine' | 'scenario'> {
  /**
   * The upstream: its address (default Google's), key, a model to use whatever the client asks
   * for, … The upstream handles go into `store`; failures are logged to `logger`.
   */
  readonly upstream?: Omit<GeminiEngineOptions, 'handleStore' | 'log'>;
}

export interface GatewayParts extends ServerParts {
  /** For its start-up check of the upstream (`checkUpstream`). */
  readonly engine: GeminiEngine;
}

/**
 * The gateway owns the GeminiEngine it creates (closed with the server, as every engine is) and,
 * as the emulator does, the flite synthesizer and pocketsphinx recognizer it creates when
 * `speech` and `speechRecognizer` are not given; what the caller passes stays the caller's. The
 * store, given or not, is closed by the server.
 */
export function gatewayParts(options: GatewayOptions = {}): GatewayParts {
  const base = baseParts(options);
  const engine = new GeminiEngine({ ...options.upstream, handleStore: (id) => sessionHandleStore(base.store, id), log: base.log, clock: base.clock });
  return { ...base, engine, ...voiceParts(defaultSpeech(options.speech), defaultRecognizer(options.speechRecognizer, base.log), options.vad, engine) };
}

/** A gateway server, not yet listening, and its engine (for `engine.checkUpstream()`). */
export function createGateway(options: GatewayOptions = {}): { server: ReliveServer; engine: GeminiEngine } {
  const parts = gatewayParts(options);
  return { server: assembleServer(parts), engine: parts.engine };
}
