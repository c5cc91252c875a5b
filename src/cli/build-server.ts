/**
 * `relive serve` options (parsed by serve-options.ts) → a ReliveServer, not yet listening: the
 * store, clock, tokenizer, engine, scenario and fault rules they name. For commands that run a
 * server in-process (`relive exec`).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { parse as parseYaml } from 'yaml';
import { GeminiEngine } from '../engine/gemini/gemini-engine.js';
import { sessionHandleStore } from '../engine/gemini/session-handle-store.js';
import { OpenAIEngine } from '../engine/openai/openai-engine.js';
import { loadScenario } from '../engine/scripted/scenario.js';
import { createOpenAITranscriptionRecognizer } from '../media/stt/openai-transcription.js';
import { createOpenAISpeechSynthesizer } from '../media/tts/openai-speech.js';
import { createServer, type ReliveServer } from '../server/create-server.js';
import { ManualClock, ScaledClock } from '../session/clock.js';
import { openStore } from '../store/open-store.js';
import { loadTokenizer } from '../tokenizer/select.js';
import type { ServeArgs } from './serve-options.js';

export async function buildServer(parsed: ServeArgs, logger: Logger): Promise<ReliveServer> {
  // Asked for on the command line, a directory that cannot be made is an error to stop at (the
  // recorder itself only logs).
  if (parsed.options.recordDir) mkdirSync(parsed.options.recordDir, { recursive: true });
  const scenario = parsed.scriptPath ? await loadScenario(parsed.scriptPath) : undefined;
  const faults = parsed.faultsPath ? readFaults(parsed.faultsPath) : [];
  const store = await openStore(parsed.storeSpec);
  const clock = parsed.clock === 'manual' ? new ManualClock(Date.now()) : parsed.timeScale ? new ScaledClock(parsed.timeScale) : undefined;
  const tokenizer = await loadTokenizer(parsed.tokenizer);
  const choice = parsed.engine;
  const engine =
    choice.kind === 'openai'
      ? new OpenAIEngine({ baseUrl: choice.baseUrl, model: choice.model, apiKey: choice.apiKey, log: logger })
      : choice.kind === 'gemini'
        ? new GeminiEngine({ baseUrl: choice.upstreamUrl, model: choice.model, apiKey: choice.apiKey, handleStore: (id) => sessionHandleStore(store, id) })
        : undefined;
  // The OpenAI-compatible server's own speech endpoints, when asked for, replace pocketsphinx and flite.
  const audio =
    choice.kind === 'openai'
      ? {
          ...(choice.sttModel ? { speechRecognizer: createOpenAITranscriptionRecognizer({ baseUrl: choice.baseUrl, apiKey: choice.apiKey, model: choice.sttModel, log: logger }) } : {}),
          ...(choice.ttsModel ? { speech: createOpenAISpeechSynthesizer({ baseUrl: choice.baseUrl, apiKey: choice.apiKey, model: choice.ttsModel, voice: choice.ttsVoice }) } : {}),
        }
      : {};
  const server = createServer({ ...parsed.options, scenario, logger, store, clock, tokenizer, engine, ...audio });
  try {
    for (const rule of faults) server.faults.add(rule);
  } catch (err) {
    await server.close();
    throw new Error(`--faults ${parsed.faultsPath}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return server;
}

/** A JSON or YAML file of one fault rule or a list of them. */
function readFaults(path: string): unknown[] {
  let rules: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    rules = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new Error(`--faults ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return Array.isArray(rules) ? rules : [rules];
}
