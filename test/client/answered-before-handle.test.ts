/**
 * A connection lost between a turn's turnComplete and its handle (found by the three-node SIGKILL
 * test in CI: a node died in that window). The app saw the answer and sent its next turn; the
 * server resumes at the older handle, without that turn. Sent again as live input, the answered
 * turn was answered a second time, the next turn cut that answer off, and the app took the cut
 * answer's turnComplete for its next reply: every reply after it was one turn behind and cut short.
 * The answered turn goes back as history (its input and the answer the app saw), not as a request.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Modality } from '@google/genai';
import { connectResilient } from '../../src/client/index.js';
import { parseScenario } from '../../src/engine/scripted/scenario.js';
import { AppView } from '../helpers/app-view.js';
import { SlowCommits } from '../helpers/slow-commits.js';
import { startServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

test('lost between a turnComplete and its handle: the answered turn is restored as history, the next one answered once', async () => {
  const server = await startServer({
    keepaliveIntervalMs: 0,
    // Each handle comes 150 ms after its turnComplete: the window the connection is lost in.
    store: new SlowCommits(150),
    scenario: parseScenario(JSON.stringify({ rules: [{ reply: [{ text: 'Reply to {{input}}: one two three four five six', chunkDelayMs: 20 }] }] }), 'json'),
  });
  const app = new AppView();
  let completes = 0;
  const session = await connectResilient({
    model: 'gemini-live-2.5-flash-preview',
    config: { responseModalities: [Modality.TEXT] },
    apiKey: 'answered-before-handle',
    baseUrl: server.url,
    reconnect: { initialDelayMs: 5, maxDelayMs: 50 },
    callbacks: {
      ...app.callbacks,
      onmessage: (m) => {
        app.callbacks.onmessage(m);
        // As an app that talks on: the next turn goes out the moment the previous one is answered.
        if (m.serverContent?.turnComplete && ++completes === 2) session.sendClientContent({ turns: 'three' });
      },
    },
  });
  try {
    const id = app.messages[0]!.setupComplete!.sessionId!;
    session.sendClientContent({ turns: 'one' });
    await app.turn(1);
    // Turn 1's handle arrives 150 ms after its turnComplete.
    await new Promise((r) => setTimeout(r, 300));
    // Turn 3 (sent at turn 2's turnComplete, before turn 2's handle) finds the connection dropped.
    await fetch(`${server.url}/relive/v1/faults`, { method: 'POST', body: JSON.stringify({ match: { messageType: 'clientContent', turn: 3 }, count: 1, action: { type: 'drop' } }) });
    session.sendClientContent({ turns: 'two' });
    assert.equal(await app.turn(2), 'Reply to two: one two three four five six');
    assert.equal(await app.turn(3), 'Reply to three: one two three four five six', 'the third reply answers the third turn, whole');
    const restored = app.events.find((e) => e.type === 'stateRestored');
    assert.deepEqual(restored && restored.type === 'stateRestored' && [restored.via, restored.restoredTurns, restored.replayed], ['handle', 2, 1], JSON.stringify(app.events));
    const context = await waitFor(async () => {
      const detail = (await (await fetch(`${server.url}/relive/v1/sessions/${id}`)).json()) as { context: { role: string; parts: { text?: string }[] }[] };
      return detail.context.length >= 6 && detail.context;
    }, 'turn 3 in the session record');
    assert.deepEqual(
      context.map((t) => `${t.role}: ${t.parts.map((p) => p.text).join('')}`),
      ['user: one', 'model: Reply to one: one two three four five six', 'user: two', 'model: Reply to two: one two three four five six', 'user: three', 'model: Reply to three: one two three four five six'],
    );
    // Nothing more comes: no second answer to turn 2, no reply nobody asked for.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(app.turnCompletes(), 3, 'one turnComplete per turn');
    assert.ok(!app.messages.some((m) => m.serverContent?.interrupted), 'no answer cut off');
  } finally {
    session.close();
    await server.close();
  }
});
