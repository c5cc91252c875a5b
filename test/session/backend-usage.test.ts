/** An engine that reports its own token counts: usageMetadata carries them instead of relive's estimate. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Engine } from '../../src/session/engine.js';
import { sessionUnderTest } from './session-under-test.js';

test('usage events of every generation in a turn add up in turnComplete.usageMetadata', async () => {
  let call = 0;
  const engine: Engine = {
    name: 'counting',
    open: () => ({
      async *generate() {
        call++;
        yield { type: 'text', text: `part ${call}` };
        yield { type: 'usage', promptTokens: 100 * call, responseTokens: 7 };
      },
      close: () => undefined,
    }),
  };
  const { session, out } = sessionUnderTest(engine);
  session.handle({ kind: 'clientContent', clientContent: { turns: [{ role: 'user', parts: [{ text: 'hi' }] }], turnComplete: true } });
  await out.turnComplete();
  const done = out.messages.find((m) => 'serverContent' in m && m.serverContent.turnComplete) as { usageMetadata: { promptTokenCount: number; responseTokenCount: number; totalTokenCount: number } };
  assert.deepEqual([done.usageMetadata.promptTokenCount, done.usageMetadata.responseTokenCount, done.usageMetadata.totalTokenCount], [100, 7, 107]);
});
