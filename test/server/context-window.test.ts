/**
 * The context window seen from outside: usageMetadata through the SDK, compression visible in the
 * control API and in /metrics, and a compressed context persisted and restored on resume.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Modality } from '@google/genai';
import { Inbox, sdk, startServer } from '../helpers/server.js';

const MODEL = 'gemini-live-2.5-flash-preview';

interface Detail {
  context: { role: string; parts: { text?: string }[] }[];
  tokens: { context: number; trigger?: number; target?: number; turnsDropped: number };
  compressions: { at: string; tokensBefore: number; tokensAfter: number; turnsDropped: number }[];
}

describe('context window through the wire', () => {
  test('usageMetadata on turnComplete, compression in the control API and /metrics, compressed context restored on resume', async () => {
    const server = await startServer({ keepaliveIntervalMs: 0 });
    try {
      const inbox = new Inbox();
      const config = {
        responseModalities: [Modality.TEXT],
        sessionResumption: {},
        contextWindowCompression: { triggerTokens: '120', slidingWindow: { targetTokens: '60' } },
      };
      const session = await sdk(server.url).live.connect({ model: MODEL, config, callbacks: inbox.callbacks });
      const id = inbox.messages[0]!.setupComplete!.sessionId!;
      for (let i = 0; i < 10; i++) {
        const mark = inbox.messages.length;
        session.sendClientContent({ turns: `this is message number ${i} of the conversation` });
        const done = await inbox.turnComplete(mark);
        const usage = done.usageMetadata!;
        assert.equal(usage.totalTokenCount, usage.promptTokenCount! + usage.responseTokenCount!);
        await inbox.waitFor((m) => m.sessionResumptionUpdate?.newHandle !== undefined, mark);
      }
      const detail = (await (await fetch(`${server.url}/relive/v1/sessions/${id}`)).json()) as Detail;
      assert.equal(detail.tokens.trigger, 120);
      assert.equal(detail.tokens.target, 60);
      assert.ok(detail.tokens.context <= 120 + 40);
      assert.ok(detail.compressions.length > 0);
      assert.ok(detail.tokens.turnsDropped > 0);
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      const counted = Number(/^relive_context_compressions_total (\d+)/m.exec(metrics)?.[1]);
      assert.equal(counted, detail.compressions.length);
      assert.match(metrics, /^relive_sessions_live 1$/m);

      const handle = inbox.messages.filter((m) => m.sessionResumptionUpdate?.newHandle).at(-1)!.sessionResumptionUpdate!.newHandle!;
      session.close();
      await inbox.waitClose();
      const again = new Inbox();
      const resumed = await sdk(server.url).live.connect({ model: MODEL, config: { ...config, sessionResumption: { handle } }, callbacks: again.callbacks });
      const restored = (await (await fetch(`${server.url}/relive/v1/sessions/${id}`)).json()) as Detail;
      assert.deepEqual(restored.context, detail.context, 'the compressed context, not the full one');
      assert.equal(restored.tokens.context, detail.tokens.context);
      assert.equal(restored.tokens.turnsDropped, detail.tokens.turnsDropped);
      resumed.close();
      await again.waitClose();
    } finally {
      await server.close();
    }
  });
});
