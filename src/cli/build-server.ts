/**
 * `relive serve` options (parsed by serve-options.ts) → a ReliveServer, not yet listening: the
 * preset of the chosen engine's mode, given the store, clock, tokenizer, scenario and fault rules
 * the options name. The one place the command line is wired to the server, for `relive serve` and
 * `relive exec` alike.
 */
import { mkdirSync } from 'node:fs';
import type { Logger } from 'pino';
import type { GeminiEngine } from '../engine/gemini/gemini-engine.js';
import { loadScenario } from '../engine/scripted/scenario.js';
import { createServer } from '../modes/emulate.js';
import { createGateway } from '../modes/gateway.js';
import { createSelfHost } from '../modes/self-host.js';
import type { ReliveServer } from '../server/create-server.js';
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
  const options = { ...parsed.options, logger, store, clock, tokenizer };
  const choice = parsed.engine;
  let server: ReliveServer;
  let gateway: GeminiEngine | undefined;
  switch (choice.kind) {
    case 'scripted':
      server = createServer({ ...options, scenario });
      break;
    case 'gemini':
      ({ server, engine: gateway } = createGateway({ ...options, upstream: { baseUrl: choice.upstreamUrl, model: choice.model, apiKey: choice.apiKey, apiVersion: choice.apiVersion } }));
      break;
    case 'openai': {
      const { baseUrl, model, apiKey, sttModel, ttsModel, ttsVoice } = choice;
      server = createSelfHost({ ...options, openai: { baseUrl, model, apiKey, sttModel, ttsModel, ttsVoice } });
      break;
    }
  }
  for (const rule of faultRules) server.faults.add(rule);
  return { server, gateway, tokenizerName: tokenizer.name };
}
