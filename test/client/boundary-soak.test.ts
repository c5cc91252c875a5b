/**
 * Issue #16's soak, client direct: 1,000 goAways, each in the middle of an extended-thinking
 * filler/answer sequence or of a NON_BLOCKING tool call, through relive/client against relive.
 * Every request must be answered exactly once and in order, every rotation must resume with a
 * boundary handle (never the mid-answer one), and nothing may be seeded or reconnected.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Behavior } from '@google/genai';
import type { LifecycleEvent } from '../../src/client/index.js';
import { connectTapped, MID_ANSWER, type TapState } from '../helpers/interaction-tap.js';
import { startServer } from '../helpers/server.js';
import { Changes, waitFor } from '../helpers/wait.js';

const ROTATIONS = Number(process.env.SOAK_ROTATIONS ?? 1000);

test(`${ROTATIONS} goAways during filler/answer sequences and non-blocking calls: every request answered once, in order`, { timeout: 120_000 }, async () => {
  const server = await startServer({ keepaliveIntervalMs: 0 });
  const state: TapState = { plan: undefined, setups: [], closes: 0 };
  try {
    const answers: string[] = [];
    const events: LifecycleEvent[] = [];
    const changes = new Changes();
    let idles = 0;
    let turnText = '';
    const session = await connectTapped(server.url, state, {
      apiKey: 'boundary-soak',
      tools: [{ functionDeclarations: [{ name: 'search_docs', behavior: Behavior.NON_BLOCKING }] }],
      events,
      changes,
      onmessage: (m) => {
        const sc = m.serverContent;
        const text = sc?.modelTurn?.parts?.map((p) => p.text ?? '').join('');
        // The injected filler is not an answer; everything else the model says is, a turn at a time.
        if (text && text !== 'let me think') turnText += text;
        if (sc?.turnComplete && sc.interactionStatus !== 'IN_PROGRESS') {
          idles++;
          answers.push(turnText);
          turnText = '';
        }
        for (const fc of m.toolCall?.functionCalls ?? []) {
          const n = JSON.stringify(fc.args ?? {});
          session.sendToolResponse({ functionResponses: [{ id: fc.id!, name: fc.name!, response: { result: `found ${n}` } }] });
        }
      },
    });
    const until = (cond: () => boolean, what: string) =>
      waitFor(cond, { what, timeoutMs: 10_000, on: changes, stepMs: 50, detail: () => JSON.stringify({ answers: answers.slice(-6), events: events.slice(-4) }) });

    const expected: string[] = [];
    for (let i = 1; i <= ROTATIONS; i++) {
      const rotations = session.stats.rotations;
      const withCall = i % 3 === 0;
      state.plan = { goAway: '30s', on: withCall ? 'toolCall' : 'modelTurn' };
      const before = idles;
      if (withCall) {
        session.sendClientContent({ turns: `search docs for topic=${i}`, turnComplete: true });
        expected.push('Calling search_docs.', `The function search_docs returned {"result":"found {\\"topic\\":${i}}"}.`);
      } else {
        session.sendClientContent({ turns: `question ${i}`, turnComplete: true });
        expected.push(`You said: question ${i}`);
      }
      // A call's sequence ends twice (the call's turn, then the turn with its result).
      await until(() => session.stats.rotations > rotations && idles >= before + (withCall ? 2 : 1) && session.stats.connections === events.filter((e) => e.type === 'connected').length, `request ${i} and its rotation`);
    }
    assert.equal(session.stats.rotations, ROTATIONS);
    assert.equal(session.stats.reconnects, 0);
    assert.equal(session.stats.seeded, 0);
    assert.equal(state.setups.length, ROTATIONS + 1);
    assert.ok(state.setups.slice(1).every((s) => (s.sessionResumption as { handle?: string }).handle !== MID_ANSWER), 'never resumed mid-answer');
    assert.ok(events.filter((e) => e.type === 'stateRestored').every((e) => e.type === 'stateRestored' && e.via === 'handle'));
    assert.deepEqual(answers, expected);
    session.close();
  } finally {
    await server.close();
  }
});
