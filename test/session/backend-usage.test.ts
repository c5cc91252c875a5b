/** An engine that reports its own token counts: usageMetadata carries them instead of relive's estimate. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../src/session/clock.js';
import { resolveConfig } from '../../src/session/config.js';
import type { Engine } from '../../src/session/engine.js';
import { newSessionId } from '../../src/session/ids.js';
import { LiveSession } from '../../src/session/live-session.js';
import { DEFAULT_TOKEN_RATES } from '../../src/session/tokens.js';
import { createO200kTokenizer } from '../../src/tokenizer/o200k.js';
import { Recorder } from './recorder.js';

test('usage events of every generation in a turn add up in turnComplete.usageMetadata', async () => {
  let call = 0;
  const engine: Engine = {
    name: 'counting',
    async *generate() {
      call++;
      yield { type: 'text', text: `part ${call}` };
      yield { type: 'usage', promptTokens: 100 * call, responseTokens: 7 };
    },
  };
  const resolved = resolveConfig({ model: 'models/gemini-live-2.5-flash-preview', generationConfig: { responseModalities: ['TEXT'] } }, { unknownModels: 'accept', apiVersion: 'v1beta' });
  if (!resolved.ok) throw new Error(resolved.detail);
  const session = new LiveSession(newSessionId(), resolved.config, {
    engine,
    speech: undefined,
    audioChunkMs: 100,
    clock: new ManualClock(),
    strict: false,
    log: { info: () => undefined, warn: () => undefined },
    tokenizer: createO200kTokenizer(),
    tokenRates: DEFAULT_TOKEN_RATES,
    preambleTokens: 0,
  });
  const out = new Recorder();
  session.attach(out);
  session.handle({ kind: 'clientContent', clientContent: { turns: [{ role: 'user', parts: [{ text: 'hi' }] }], turnComplete: true } });
  await out.turnComplete();
  const done = out.messages.find((m) => 'serverContent' in m && m.serverContent.turnComplete) as { usageMetadata: { promptTokenCount: number; responseTokenCount: number; totalTokenCount: number } };
  assert.deepEqual([done.usageMetadata.promptTokenCount, done.usageMetadata.responseTokenCount, done.usageMetadata.totalTokenCount], [100, 7, 107]);
});
