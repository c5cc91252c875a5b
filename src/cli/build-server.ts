/**
 * `relive serve` options (parsed by serve-options.ts) → a ReliveServer, not yet listening: the
 * store, clock, tokenizer, engine, scenario and fault rules they name. The one place the command
 * line is wired to the server, for `relive serve` and `relive exec` alike.
 */
import { mkdirSync } from 'node:fs';
import type { Logger } from 'pino';
import { GeminiEngine } from '../engine/gemini/gemini-engine.js';
import { sessionHandleStore } from '../engine/gemini/session-handle-store.js';
import { OpenAIEngine } from '../engine/openai/openai-engine.js';
import { loadScenario } from '../engine/scripted/scenario.js';
import { createOpenAITranscriptionRecognizer } from '../media/stt/openai-transcription.js';
import { createOpenAISpeechSynthesizer } from '../media/tts/openai-speech.js';
import { createServer, type ReliveServer } from '../server/create-server.js';
import { loadFaultFile } from '../server/fault-file.js';
import { ManualClock, ScaledClock } from '../session/clock.js';
import { openStore } from '../store/open-store.js';
import { loadTokenizer } from '../tokenizer/select.js';
import type { ServeArgs } from './serve-options.js';

/** A server built from the command line, with what its start-up line reports. */
export interface BuiltServer {
  readonly server: ReliveServer;
  /** The gateway's engine, for its start-up check of the upstream. */
  readonly gateway: GeminiEngine | undefined;
  readonly tokenizerName: string;
}

export async function buildServer(parsed: ServeArgs, logger: Logger): Promise<BuiltServer> {
  // Asked for on the command line, a directory that cannot be made is an error to stop at (the
  // recorder itself only logs).
  if (parsed.options.recordDir) mkdirSync(parsed.options.recordDir, { recursive: true });
  const scenario = parsed.scriptPath ? await loadScenario(parsed.scriptPath) : undefined;
  // Checked whole before anything starts, so a bad file is reported as its field, not as zod's dump.
  const faultRules = parsed.faultsPath ? loadFaultFile(parsed.faultsPath) : [];
  const store = await openStore(parsed.storeSpec);
  const clock = parsed.clock === 'manual' ? new ManualClock(Date.now()) : parsed.timeScale ? new ScaledClock(parsed.timeScale) : undefined;
  const tokenizer = await loadTokenizer(parsed.tokenizer);
  const choice = parsed.engine;
  const gateway =
    choice.kind === 'gemini'
      ? new GeminiEngine({ baseUrl: choice.upstreamUrl, model: choice.model, apiKey: choice.apiKey, handleStore: (id) => sessionHandleStore(store, id), log: logger, clock })
      : undefined;
  const engine = choice.kind === 'openai' ? new OpenAIEngine({ baseUrl: choice.baseUrl, model: choice.model, apiKey: choice.apiKey, log: logger }) : gateway;
  // The OpenAI-compatible server's own speech endpoints, when asked for, replace pocketsphinx and flite.
  const audio =
    choice.kind === 'openai'
      ? {
          ...(choice.sttModel ? { speechRecognizer: createOpenAITranscriptionRecognizer({ baseUrl: choice.baseUrl, apiKey: choice.apiKey, model: choice.sttModel, log: logger }) } : {}),
          ...(choice.ttsModel ? { speech: createOpenAISpeechSynthesizer({ baseUrl: choice.baseUrl, apiKey: choice.apiKey, model: choice.ttsModel, voice: choice.ttsVoice }) } : {}),
        }
      : {};
  const server = createServer({ ...parsed.options, scenario, logger, store, clock, tokenizer, engine, ...audio });
  for (const rule of faultRules) server.faults.add(rule);
  return { server, gateway, tokenizerName: tokenizer.name };
}
