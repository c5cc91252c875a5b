/**
 * goAway rotation waits for the interaction boundary (protocol/interaction-boundary.ts), and
 * resumes with the handle that came after the interaction's IDLE turnComplete, never with one sent
 * mid-answer. The server is relive; the frames a 3.8 extended-thinking model and Agent Platform
 * add (a filler turn ending IN_PROGRESS, a resumable handle sent mid-answer, the IDLE on the
 * answer's turnComplete, a goAway in the middle) are written into what the client's socket
 * receives, by a WebSocket class the client is given: relive's own 2.5 model sends none of them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Behavior } from '@google/genai';
import type { LifecycleEvent } from '../../src/client/index.js';
import { startServer } from '../helpers/server.js';
import { connectTapped, MID_ANSWER, type TapState } from '../helpers/interaction-tap.js';
import { Changes, waitFor } from '../helpers/wait.js';

test('goAway mid-answer after a filler turn: the rotation waits for IDLE and its handle; the mid-answer handle is never used', async () => {
  const server = await startServer({ keepaliveIntervalMs: 0 });
  const state: TapState = { plan: undefined, setups: [], closes: 0 };
  try {
    const seen: string[] = [];
    const events: LifecycleEvent[] = [];
    const changes = new Changes();
    const session = await connectTapped(server.url, state, {
      apiKey: 'boundary',
      events,
      changes,
      onmessage: (m) => {
        const sc = m.serverContent;
        const text = sc?.modelTurn?.parts?.map((p) => p.text ?? '').join('');
        if (text) seen.push(`text:${text}`);
        if (sc?.turnComplete) seen.push(`turnComplete:${sc.interactionStatus ?? '-'}`);
        if (m.sessionResumptionUpdate?.newHandle) seen.push(`handle:${m.sessionResumptionUpdate.newHandle}`);
      },
    });
    const until = (cond: () => boolean, what: string) => waitFor(cond, { what, timeoutMs: 10_000, on: changes, stepMs: 20, detail: () => JSON.stringify({ seen, events }) });
    const turnCompletes = () => seen.filter((s) => s.startsWith('turnComplete')).length;

    session.sendClientContent({ turns: 'first question', turnComplete: true });
    await until(() => turnCompletes() === 1 && seen.at(-1)?.startsWith('handle:') === true, 'the first answer and its handle');

    state.plan = { goAway: '30s', on: 'modelTurn' };
    session.sendClientContent({ turns: 'second question', turnComplete: true });
    await until(() => events.some((e) => e.type === 'stateRestored'), 'the rotation');

    // Where the rotation happened: after the answer's IDLE and the handle that followed it.
    const idleAt = seen.indexOf('turnComplete:IDLE');
    assert.ok(idleAt > seen.indexOf(`handle:${MID_ANSWER}`), JSON.stringify(seen));
    const boundaryHandle = seen[idleAt + 1]!.slice('handle:'.length);
    assert.ok(seen[idleAt + 1]!.startsWith('handle:') && boundaryHandle !== MID_ANSWER, JSON.stringify(seen));
    assert.equal(state.setups.length, 2);
    const resumedWith = (state.setups[1]!.sessionResumption as { handle?: string }).handle;
    assert.equal(resumedWith, boundaryHandle, 'resumed with the boundary handle');
    assert.equal(session.stats.rotations, 1);
    assert.equal(session.stats.seeded, 0);
    const restored = events.find((e) => e.type === 'stateRestored') as Extract<LifecycleEvent, { type: 'stateRestored' }>;
    assert.equal(restored.via, 'handle');
    assert.equal(restored.replayed, 0, 'nothing after the boundary to send again');

    // The session goes on where it was: the next question gets one answer, and none came twice.
    session.sendClientContent({ turns: 'third question', turnComplete: true });
    await until(() => turnCompletes() === 4, 'the third answer');
    assert.deepEqual(
      seen.filter((s) => s.startsWith('turnComplete')),
      ['turnComplete:-', 'turnComplete:IN_PROGRESS', 'turnComplete:IDLE', 'turnComplete:-'],
    );
    session.close();
  } finally {
    await server.close();
  }
});

test('goAway during a pending NON_BLOCKING call: no resumable handle and no rotation until the call is answered, then the boundary handle; the result comes once', async () => {
  const server = await startServer({ keepaliveIntervalMs: 0 });
  const state: TapState = { plan: { goAway: '30s', on: 'toolCall' }, setups: [], closes: 0 };
  try {
    const seen: string[] = [];
    const events: LifecycleEvent[] = [];
    const changes = new Changes();
    let callId: string | undefined;
    let closesAtUpdate: number | undefined;
    const session = await connectTapped(server.url, state, {
      apiKey: 'boundary-call',
      tools: [{ functionDeclarations: [{ name: 'search_docs', behavior: Behavior.NON_BLOCKING }] }],
      events,
      changes,
      onmessage: (m) => {
        const sc = m.serverContent;
        const text = sc?.modelTurn?.parts?.map((p) => p.text ?? '').join('');
        if (text) seen.push(`text:${text}`);
        if (sc?.turnComplete) seen.push(`turnComplete:${sc.interactionStatus ?? '-'}`);
        if (m.toolCall) {
          callId = m.toolCall.functionCalls![0]!.id;
          seen.push('toolCall');
        }
        const update = m.sessionResumptionUpdate;
        if (update) {
          seen.push(update.newHandle ? `handle:${update.newHandle}` : 'notResumable');
          // The update after the call's turn: a macrotask later the old socket must still be open.
          if (callId && closesAtUpdate === undefined) {
            setImmediate(() => {
              closesAtUpdate = state.closes;
              changes.notify();
            });
          }
        }
      },
    });
    const until = (cond: () => boolean, what: string) => waitFor(cond, { what, timeoutMs: 10_000, on: changes, stepMs: 20, detail: () => JSON.stringify({ seen, events }) });

    session.sendClientContent({ turns: 'search docs for goAway', turnComplete: true });
    await until(() => closesAtUpdate !== undefined, 'the call, its turn end and the update after it');
    // The call is owed: the server says the session is not resumable now, and nothing rotates.
    assert.deepEqual(seen.slice(-3), ['toolCall', 'turnComplete:IDLE', 'notResumable']);
    assert.equal(closesAtUpdate, 0, 'no rotation while the call is owed');
    assert.equal(session.stats.rotations, 0);
    // The goAway is the library's business (the app never sees it): it started the rotation.
    assert.ok(events.some((e) => e.type === 'rotating'));

    session.sendToolResponse({ functionResponses: [{ id: callId!, name: 'search_docs', response: { result: 'goAway gives notice' } }] });
    await until(() => session.stats.rotations === 1 && events.some((e) => e.type === 'stateRestored'), 'the answer with the result, its handle and the switch');
    const handles = seen.filter((s) => s.startsWith('handle:'));
    const boundaryHandle = handles.at(-1)!.slice('handle:'.length);
    assert.deepEqual(
      seen.slice(seen.indexOf('notResumable') + 1).filter((s) => !s.startsWith('text:')).map((s) => s.replace(/^turnComplete:.*/, 'turnComplete')).slice(0, 2),
      ['turnComplete', `handle:${boundaryHandle}`],
    );
    assert.equal((state.setups[1]!.sessionResumption as { handle?: string }).handle, boundaryHandle);
    const restored = events.find((e) => e.type === 'stateRestored') as Extract<LifecycleEvent, { type: 'stateRestored' }>;
    assert.deepEqual([restored.via, restored.replayed], ['handle', 0], 'the handle covers the tool response');
    const answers = seen.filter((s) => s.startsWith('text:') && s.includes('goAway gives notice'));
    assert.equal(answers.length, 1, JSON.stringify(seen));
    session.close();
  } finally {
    await server.close();
  }
});
