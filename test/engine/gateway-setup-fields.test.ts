/**
 * The gateway passes each model's own setup fields upstream unchanged (issue #16 item 3):
 * proactivity, historyConfig and generationConfig.thinkingConfig, sent by a raw client (the SDK
 * cannot send historyConfig), arrive in the upstream relive's setup as they were sent.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GeminiEngine } from '../../src/engine/gemini/gemini-engine.js';
import { RawClient } from '../helpers/raw-client.js';
import { startServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const MODEL = 'models/gemini-live-2.5-flash-preview';

describe('gateway setup fields', () => {
  test('proactivity, historyConfig and thinkingConfig arrive upstream as sent', async () => {
    const upstream = await startServer({ keepaliveIntervalMs: 0, vad: false });
    const gateway = await startServer({ keepaliveIntervalMs: 0, vad: false, engine: new GeminiEngine({ baseUrl: upstream.url, apiKey: 'gateway' }) });
    try {
      const thinkingConfig = { thinkingBudget: 512, includeThoughts: true };
      const proactivity = { proactiveAudio: true };
      const historyConfig = { initialHistoryInClientContent: true };
      const client = await RawClient.connect(gateway.url, {
        setup: { model: MODEL, generationConfig: { responseModalities: ['TEXT'], thinkingConfig }, proactivity, historyConfig },
      });
      assert.equal(await client.turn('pass these on'), 'You said: pass these on');
      const { sessions } = (await (await fetch(`${upstream.url}/relive/v1/sessions`)).json()) as { sessions: { id: string }[] };
      assert.equal(sessions.length, 1);
      const { config } = (await (await fetch(`${upstream.url}/relive/v1/sessions/${sessions[0]!.id}`)).json()) as { config: Record<string, any> };
      assert.deepEqual(config.generationConfig.thinkingConfig, thinkingConfig);
      assert.deepEqual(config.proactivity, proactivity);
      assert.deepEqual(config.historyConfig, historyConfig);
      await client.dispose();
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });

  test('a 3.1 upstream is opened with historyConfig, so a new upstream session can be seeded before its first turn', async () => {
    const upstream = await startServer({ keepaliveIntervalMs: 0, vad: false });
    const gateway = await startServer({ keepaliveIntervalMs: 0, vad: false, engine: new GeminiEngine({ baseUrl: upstream.url, apiKey: 'gateway' }) });
    try {
      const client = await RawClient.connect(gateway.url, { setup: { model: 'models/gemini-3.1-flash-live-preview', generationConfig: { responseModalities: ['AUDIO'] } } });
      // 3.1 takes typed input as realtime text (clientContent only as initial history).
      client.send({ realtimeInput: { text: 'open the upstream' } });
      const id = await waitFor(async () => ((await (await fetch(`${upstream.url}/relive/v1/sessions`)).json()) as { sessions: { id: string }[] }).sessions[0]?.id, 'the upstream session');
      const { config } = (await (await fetch(`${upstream.url}/relive/v1/sessions/${id}`)).json()) as { config: Record<string, any> };
      assert.deepEqual(config.historyConfig, { initialHistoryInClientContent: true });
      await client.dispose();
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });
});
