/**
 * The emulate mode (the default): the scripted engine, with the scenario when one is given, and
 * local voice — flite, pocketsphinx, Silero — in front of a memory store. `createServer` is this
 * preset; every part can be replaced through its option.
 */
import { ScriptedEngine } from '../engine/scripted/scripted-engine.js';
import { assembleServer, type ReliveServer } from '../server/create-server.js';
import type { ServerOptions } from '../server/options.js';
import type { ServerParts } from '../server/parts.js';
import { baseParts } from './base.js';
import { defaultRecognizer, defaultSpeech, voiceParts } from './voice.js';

/**
 * What the emulator owns, and closes when the server closes: the flite synthesizer it starts (at
 * the first AUDIO reply) and the pocketsphinx recognizer it creates, each only when the option
 * for it was not given. What the caller passes as `speech`, `speechRecognizer` or `vad` stays the
 * caller's, open after the server closed. The `engine` and the `store` are closed by the server
 * whoever made them (as they always were: the server is their last user).
 */
export function emulatorParts(options: ServerOptions = {}): ServerParts {
  const base = baseParts(options);
  const engine = options.engine ?? new ScriptedEngine({ clock: base.clock, scenario: options.scenario });
  return { ...base, engine, ...voiceParts(defaultSpeech(options.speech), defaultRecognizer(options.speechRecognizer, base.log), options.vad, engine) };
}

/**
 * A Gemini Live API server, not yet listening: with no options the emulator on 127.0.0.1:8765
 * with its defaults (ServerOptions says each one).
 */
export function createServer(options: ServerOptions = {}): ReliveServer {
  return assembleServer(emulatorParts(options));
}
