/**
 * Issue #16's soak through the gateway: the app talks to a relive gateway with the official SDK;
 * the gateway's upstream link (relive/client) talks to an upstream relive, and each of its answers
 * gets an extended-thinking filler turn (IN_PROGRESS), a mid-answer resumable handle and a goAway
 * written into it (test/helpers/interaction-tap.ts), or a goAway right after a NON_BLOCKING call.
 * Every upstream rotation must wait for the boundary and resume with a boundary handle; the app
 * sees no goAway and every request answered exactly once, in order.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Behavior, Modality, type LiveServerMessage } from '@google/genai';
import { GeminiEngine } from '../../src/engine/gemini/gemini-engine.js';
import { MID_ANSWER, tapClass, type TapState } from '../helpers/interaction-tap.js';
import { sdk, startServer } from '../helpers/server.js';
import { Changes, waitFor } from '../helpers/wait.js';

const ROTATIONS = Number(process.env.SOAK_ROTATIONS ?? 1000);
const MODEL = 'gemini-live-2.5-flash-preview';

test(`via the gateway: ${ROTATIONS} upstream goAways during filler/answer sequences and non-blocking calls, every request answered once, in order`, { timeout: 120_000 }, async () => {
  const upstream = await startServer({ keepaliveIntervalMs: 0, vad: false });
  const state: TapState = { plan: undefined, setups: [], closes: 0 };
  const gateway = await startServer({ keepaliveIntervalMs: 0, vad: false, engine: new GeminiEngine({ baseUrl: upstream.url, apiKey: 'gateway', WebSocket: tapClass(state) }) });
  try {
    const answers: string[] = [];
    const seen: LiveServerMessage[] = [];
    const changes = new Changes();
    let turnText = '';
    const session = await sdk(gateway.url).live.connect({
      model: MODEL,
      config: { responseModalities: [Modality.TEXT], tools: [{ functionDeclarations: [{ name: 'search_docs', behavior: Behavior.NON_BLOCKING }] }] },
      callbacks: {
        onmessage: (m: LiveServerMessage) => {
          seen.push(m);
          const sc = m.serverContent;
          const text = sc?.modelTurn?.parts?.map((p) => p.text ?? '').join('');
          if (text) turnText += text;
          if (sc?.turnComplete) {
            answers.push(turnText);
            turnText = '';
          }
          for (const fc of m.toolCall?.functionCalls ?? []) {
            session.sendToolResponse({ functionResponses: [{ id: fc.id!, name: fc.name!, response: { result: `found ${JSON.stringify(fc.args ?? {})}` } }] });
          }
          changes.notify();
        },
      },
    });
    const until = (cond: () => boolean, what: string) =>
      waitFor(cond, { what, timeoutMs: 10_000, on: changes, stepMs: 20, detail: () => JSON.stringify({ answers: answers.slice(-4), setups: state.setups.length }) });

    const expected: string[] = [];
    for (let i = 1; i <= ROTATIONS; i++) {
      const withCall = i % 3 === 0;
      state.plan = { goAway: '30s', on: withCall ? 'toolCall' : 'modelTurn' };
      const before = answers.length;
      if (withCall) {
        session.sendClientContent({ turns: `search docs for topic=${i}`, turnComplete: true });
        expected.push('Calling search_docs.', `The function search_docs returned {"result":"found {\\"topic\\":${i}}"}.`);
      } else {
        session.sendClientContent({ turns: `question ${i}`, turnComplete: true });
        // The filler is part of the answer's interaction: the gateway passes it on within the same turn.
        expected.push(`let me thinkYou said: question ${i}`);
      }
      await until(() => answers.length >= before + (withCall ? 2 : 1), `request ${i}`);
      // The upstream rotation follows the boundary: a new setup resuming with a boundary handle. The
      // upstream connection opens with the first request, so rotation i is setup i + 1.
      await waitFor(() => state.setups.length >= i + 1, { what: `rotation ${i}`, timeoutMs: 10_000, stepMs: 2 });
    }
    assert.equal(state.setups.length, ROTATIONS + 1, 'one upstream rotation per goAway');
    assert.ok(state.setups.slice(1).every((s) => { const h = (s.sessionResumption as { handle?: string }).handle; return h !== undefined && h !== MID_ANSWER; }), 'every upstream resume with a boundary handle');
    assert.ok(!seen.some((m) => m.goAway), 'the app never sees a goAway');
    assert.deepEqual(answers, expected);
    session.close();
  } finally {
    await gateway.close();
    await upstream.close();
  }
});
