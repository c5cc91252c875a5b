/** The premature/empty turnComplete fault as a decorator on a generation's output, alone and in a session. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseScenario } from '../../src/engine/scripted/scenario.js';
import { ScriptedEngine } from '../../src/engine/scripted/scripted-engine.js';
import type { ClientMessage } from '../../src/protocol/client-schema.js';
import { msg, type ServerMessage } from '../../src/protocol/server-messages.js';
import { ManualClock } from '../../src/session/clock.js';
import { CutTurn } from '../../src/session/cut-turn.js';
import type { GenerationOutput } from '../../src/session/generation.js';
import { sessionUnderTest } from './session-under-test.js';

class Inner implements GenerationOutput {
  readonly sent: ServerMessage[] = [];
  send(message: ServerMessage): void {
    this.sent.push(message);
  }
  ready(): Promise<void> {
    return Promise.resolve();
  }
}

describe('CutTurn', () => {
  test('lets afterChunks content messages through, stops at the next, and swallows the rest', () => {
    const inner = new Inner();
    let stops = 0;
    const cut = new CutTurn(inner, 2, () => stops++);
    cut.send(msg.text('one'));
    cut.send(msg.outputTranscription('not content'));
    cut.send(msg.text('two'));
    assert.equal(stops, 0);
    cut.send(msg.text('three'));
    assert.equal(stops, 1);
    cut.send(msg.text('four'));
    cut.send(msg.outputTranscription('after the cut'));
    assert.equal(stops, 1, 'stopped once');
    assert.deepEqual(inner.sent, [msg.text('one'), msg.outputTranscription('not content'), msg.text('two')]);
  });

  test('a toolCall is content: at 0 nothing of the model goes out (the empty turnComplete)', () => {
    const inner = new Inner();
    let stops = 0;
    const cut = new CutTurn(inner, 0, () => stops++);
    cut.send(msg.toolCall([{ id: 'function-call-1', name: 'f', args: {} }]));
    assert.equal(stops, 1);
    assert.deepEqual(inner.sent, []);
  });

  test('the abort it caused is a truncated turn; other outcomes pass as they are', () => {
    const struck = new CutTurn(new Inner(), 0, () => undefined);
    struck.send(msg.text('x'));
    assert.deepEqual(struck.outcome({ kind: 'aborted' }), { kind: 'truncated' });
    assert.deepEqual(struck.outcome({ kind: 'failed', close: { code: 1011, reason: 'r' }, detail: 'd' }), { kind: 'failed', close: { code: 1011, reason: 'r' }, detail: 'd' });
    const unstruck = new CutTurn(new Inner(), 5, () => undefined);
    unstruck.send(msg.text('x'));
    assert.deepEqual(unstruck.outcome({ kind: 'aborted' }), { kind: 'aborted' }, 'a barge-in is still a barge-in');
    assert.deepEqual(unstruck.outcome({ kind: 'complete' }), { kind: 'complete' });
  });

  test('ready() is the inner output’s', async () => {
    let asked = 0;
    const inner: GenerationOutput = { send: () => undefined, ready: () => (asked++, Promise.resolve()) };
    await new CutTurn(inner, 1, () => undefined).ready();
    assert.equal(asked, 1);
  });
});

describe('a cut turn in a session', () => {
  const scenario = parseScenario(
    `
rules:
  - match: { text: count }
    reply: [{ text: one }, { text: two }, { text: three }]
`,
    'yaml',
  );
  const ask: ClientMessage = { kind: 'clientContent', clientContent: { turns: [{ role: 'user', parts: [{ text: 'count' }] }], turnComplete: true } };

  test('cutNextTurn(1): one modelTurn, then turnComplete without generationComplete; the history keeps what was sent', async () => {
    const clock = new ManualClock();
    const { session, out } = sessionUnderTest(new ScriptedEngine({ clock, scenario }), {}, clock);
    session.cutNextTurn(1);
    session.handle(ask);
    await out.turnComplete();
    assert.deepEqual(out.trace(), ['serverContent.modelTurn', 'serverContent.turnComplete']);
    assert.deepEqual(session.history[1], { role: 'model', parts: [{ kind: 'text', text: out.text() }] });
    assert.equal(session.status, 'idle');
    assert.equal(session.turnsCompleted, 1);
    // Only the next turn is cut: the one after runs whole.
    const mark = out.messages.length;
    session.handle(ask);
    await out.turnComplete(mark);
    assert.deepEqual(out.trace(mark).slice(-2), ['serverContent.generationComplete', 'serverContent.turnComplete']);
  });

  test('cutNextTurn(0): an empty turn, and nothing of the model in the history', async () => {
    const clock = new ManualClock();
    const { session, out } = sessionUnderTest(new ScriptedEngine({ clock, scenario }), {}, clock);
    session.cutNextTurn(0);
    session.handle(ask);
    await out.turnComplete();
    assert.deepEqual(out.trace(), ['serverContent.turnComplete']);
    assert.equal(session.history.length, 1);
  });
});
