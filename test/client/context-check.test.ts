/**
 * relive/client's `contextCheck`: after a resume by handle that lost the conversation (relive's
 * dropHistoryOnResume fault), the first turn's small promptTokenCount gives it away; the library
 * re-seeds the transcript, says so, and the next turn is prompted with the history again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Modality, type LiveServerMessage } from '@google/genai';
import { connectResilient, type LifecycleEvent } from '../../src/client/index.js';
import { startServer } from '../helpers/server.js';
import { Changes, waitFor } from '../helpers/wait.js';

async function run(contextCheck: boolean) {
  const server = await startServer({ keepaliveIntervalMs: 0 });
  try {
    const prompts: number[] = [];
    const texts: string[] = [];
    const events: LifecycleEvent[] = [];
    let sessionId = '';
    const changes = new Changes();
    const session = await connectResilient({
      model: 'gemini-live-2.5-flash-preview',
      config: { responseModalities: [Modality.TEXT] },
      apiKey: 'context-check',
      baseUrl: server.url,
      contextCheck,
      reconnect: { initialDelayMs: 2, maxDelayMs: 20, maxAttempts: 5 },
      keepalive: { intervalMs: 0 },
      callbacks: {
        onmessage: (m: LiveServerMessage) => {
          if (m.setupComplete) sessionId = m.setupComplete.sessionId ?? sessionId;
          const text = m.serverContent?.modelTurn?.parts?.map((p) => p.text ?? '').join('');
          if (text) texts.push(text);
          if (m.serverContent?.turnComplete) prompts.push(m.usageMetadata?.promptTokenCount ?? -1);
          changes.notify();
        },
        onevent: (e) => {
          events.push(e);
          changes.notify();
        },
      },
    });
    const until = (cond: () => boolean, what: string) => waitFor(cond, { what, timeoutMs: 10_000, on: changes, stepMs: 20, detail: () => JSON.stringify({ prompts, events }) });
    const ask = async (text: string) => {
      const before = prompts.length;
      session.sendClientContent({ turns: text, turnComplete: true });
      await until(() => prompts.length > before && session.sessionHandle !== undefined, `the answer to ${text}`);
    };
    await ask('my name is Ada and I live in a lighthouse on a cliff by the sea');
    await ask('the lighthouse has one hundred and twenty steps up to the lamp room');

    const fault = await fetch(`${server.url}/relive/v1/faults`, { method: 'POST', body: JSON.stringify({ count: 1, action: { type: 'dropHistoryOnResume' } }) });
    assert.equal(fault.status, 200);
    const goAway = await fetch(`${server.url}/relive/v1/sessions/${sessionId}:goAway`, { method: 'POST', body: JSON.stringify({ timeLeft: '10s' }) });
    assert.equal(goAway.status, 200);
    await until(() => session.stats.rotations === 1 && events.some((e) => e.type === 'stateRestored'), 'the rotation');

    await ask('and now?');
    await ask('what else?');
    session.close();
    return { prompts, events, texts, stats: session.stats };
  } finally {
    await server.close();
  }
}

test('contextCheck: a resume that lost its history is found by promptTokenCount and re-seeded; the next turn has the history', async () => {
  const { prompts, events, stats } = await run(true);
  const [, second, lost, after] = prompts as [number, number, number, number];
  assert.ok(lost < second / 2, `the resumed turn had no history: ${JSON.stringify(prompts)}`);
  const found = events.filter((e) => e.type === 'contextLost');
  assert.equal(found.length, 1);
  const event = found[0] as Extract<LifecycleEvent, { type: 'contextLost' }>;
  assert.equal(event.promptTokens, lost);
  assert.ok(event.heldTokens >= second, 'compared with what the session held before the resume');
  assert.equal(event.reseededTurns, 6, 'the transcript: three questions and three answers');
  assert.equal(stats.contextReseeds, 1);
  // The seed is back in the context: the next turn is prompted with all of it.
  assert.ok(after > second, `the next turn knows the history: ${JSON.stringify(prompts)}`);
  // The order of what the app heard: rotation, the restore, then the loss found at the first turn's end.
  const kinds = events.map((e) => e.type).filter((t) => t !== 'connected');
  assert.deepEqual(kinds, ['rotating', 'stateRestored', 'contextLost']);
});

test('contextCheck off (the default): the same lost context goes unnoticed', async () => {
  const { prompts, events, stats } = await run(false);
  assert.ok(prompts[3]! < prompts[1]!, `no re-seed: ${JSON.stringify(prompts)}`);
  assert.equal(events.filter((e) => e.type === 'contextLost').length, 0);
  assert.equal(stats.contextReseeds, 0);
});
