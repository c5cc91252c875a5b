/** A LiveSession wired as in a server, with a recorder as its connection: the core's test bench. */
import type { Setup } from '../../src/protocol/client-schema.js';
import { ManualClock } from '../../src/session/clock.js';
import { resolveConfig } from '../../src/session/config.js';
import type { Engine } from '../../src/session/engine.js';
import { newSessionId } from '../../src/session/ids.js';
import { LiveSession } from '../../src/session/live-session.js';
import { DEFAULT_TOKEN_RATES } from '../../src/session/tokens.js';
import { createO200kTokenizer } from '../../src/tokenizer/o200k.js';
import { Recorder } from './recorder.js';

export function sessionUnderTest(engine: Engine, setup: Partial<Setup> = {}, clock = new ManualClock(), strict = false): { session: LiveSession; out: Recorder } {
  const resolved = resolveConfig(
    { model: 'models/gemini-live-2.5-flash-preview', generationConfig: { responseModalities: ['TEXT'] }, ...setup },
    { unknownModels: 'accept', apiVersion: 'v1beta' },
  );
  if (!resolved.ok) throw new Error(resolved.detail);
  const session = new LiveSession(newSessionId(), resolved.config, {
    engine,
    speech: undefined,
    audioChunkMs: 100,
    clock,
    strict,
    log: { info: () => undefined, warn: () => undefined },
    tokenizer: createO200kTokenizer(),
    tokenRates: DEFAULT_TOKEN_RATES,
    preambleTokens: 0,
  });
  const out = new Recorder();
  session.attach(out);
  return { session, out };
}
