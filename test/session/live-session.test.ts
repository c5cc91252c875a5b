import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseScenario } from '../../src/engine/scripted/scenario.js';
import { ScriptedEngine } from '../../src/engine/scripted/scripted-engine.js';
import type { ClientMessage, Setup } from '../../src/protocol/client-schema.js';
import { ManualClock } from '../../src/session/clock.js';
import { sessionUnderTest } from './session-under-test.js';
import { waitFor } from '../helpers/wait.js';

function makeSession(setup: Partial<Setup> = {}, scenarioYaml?: string, strict = false) {
  const clock = new ManualClock();
  const engine = new ScriptedEngine({ clock, scenario: scenarioYaml ? parseScenario(scenarioYaml, 'yaml') : undefined });
  return { ...sessionUnderTest(engine, setup, clock, strict), clock };
}

const userText = (text: string, turnComplete = true): ClientMessage => ({
  kind: 'clientContent',
  clientContent: { turns: [{ role: 'user', parts: [{ text }] }], turnComplete },
});

const weatherTool: Setup['tools'] = [
  { functionDeclarations: [{ name: 'get_weather', parameters: { type: 'OBJECT', properties: { city: { type: 'STRING' } }, required: ['city'] } }] },
];

describe('LiveSession turns', () => {
  test('a turn streams modelTurn chunks, then generationComplete, then turnComplete, each alone', async () => {
    const { session, out } = makeSession();
    session.handle(userText('Hello world!'));
    await out.turnComplete();
    const trace = out.trace();
    assert.ok(trace.length >= 3);
    assert.deepEqual(trace.slice(-2), ['serverContent.generationComplete', 'serverContent.turnComplete']);
    assert.ok(trace.slice(0, -2).every((t) => t === 'serverContent.modelTurn'));
    assert.match(out.text(), /You said: Hello world!/);
    assert.equal(session.status, 'idle');
  });

  test('the history records the user turn and the whole model reply', async () => {
    const { session, out } = makeSession();
    session.handle(userText('Hi there'));
    await out.turnComplete();
    assert.equal(session.history.length, 2);
    assert.deepEqual(session.history[0], { role: 'user', parts: [{ kind: 'text', text: 'Hi there' }] });
    assert.deepEqual(session.history[1], { role: 'model', parts: [{ kind: 'text', text: out.text() }] });
  });

  test('clientContent with turnComplete false only appends (history prefill)', async () => {
    const { session, out } = makeSession();
    session.handle({
      kind: 'clientContent',
      clientContent: {
        turns: [
          { role: 'user', parts: [{ text: 'earlier' }] },
          { role: 'model', parts: [{ text: 'earlier reply' }] },
        ],
        turnComplete: false,
      },
    });
    await new Promise((r) => setImmediate(r));
    assert.equal(out.messages.length, 0);
    assert.equal(session.history.length, 2);
    session.handle({ kind: 'clientContent', clientContent: { turnComplete: true } });
    await out.turnComplete();
    assert.equal(session.history.length, 3);
  });

  test('realtimeInput.text is a complete utterance under automatic activity detection', async () => {
    const { session, out } = makeSession();
    session.handle({ kind: 'realtimeInput', realtimeInput: { text: 'typed realtime text' } });
    await out.turnComplete();
    assert.match(out.text(), /typed realtime text/);
  });

  test('new content during generation interrupts: interrupted then turnComplete, no generationComplete', async () => {
    const { session, out, clock } = makeSession({}, `
rules:
  - match: { text: long }
    reply:
      - text: one two three four five six seven eight nine ten
        chunkDelayMs: 100
`);
    session.handle(userText('tell me something long'));
    await out.until((m) => 'serverContent' in m && m.serverContent.modelTurn !== undefined);
    await clock.advance(100); // a second chunk goes out
    const sentSoFar = out.text();
    const mark = out.messages.length;
    session.handle(userText('stop'));
    assert.deepEqual(out.trace(mark).slice(0, 2), ['serverContent.interrupted', 'serverContent.turnComplete']);
    await out.turnComplete(mark + 2);
    // Only what reached the client stays in history.
    assert.deepEqual(session.history[1], { role: 'model', parts: [{ kind: 'text', text: sentSoFar }] });
    assert.ok(!out.trace(0, ).slice(0, mark).includes('serverContent.generationComplete'));
    await clock.advance(10_000);
    assert.equal(out.text(mark).includes('six'), false, 'the interrupted reply does not continue');
  });

  test('with NO_INTERRUPTION, realtime input waits for the turn to end', async () => {
    const { session, out, clock } = makeSession({ realtimeInputConfig: { activityHandling: 'NO_INTERRUPTION' } }, `
rules:
  - match: { text: first }
    reply: [{ text: a b c d e f g h, chunkDelayMs: 50 }]
`);
    session.handle({ kind: 'realtimeInput', realtimeInput: { text: 'first' } });
    await out.until((m) => 'serverContent' in m && m.serverContent.modelTurn !== undefined);
    session.handle({ kind: 'realtimeInput', realtimeInput: { text: 'second' } });
    await clock.advance(1000);
    await out.turnComplete(out.messages.findIndex((m) => 'serverContent' in m && m.serverContent.turnComplete) + 1);
    assert.ok(!out.trace().includes('serverContent.interrupted'));
    assert.match(out.text(), /a b c d e f g h.*You said: second/s);
  });
});

describe('LiveSession tool calls', () => {
  test('a blocking call waits for the response, then the turn ends normally', async () => {
    const { session, out } = makeSession({ tools: weatherTool });
    session.handle(userText('call get_weather city=Paris'));
    await out.until((m) => 'toolCall' in m);
    const call = out.messages.find((m) => 'toolCall' in m);
    assert.ok(call && 'toolCall' in call);
    const fc = call.toolCall.functionCalls[0]!;
    assert.equal(fc.name, 'get_weather');
    assert.deepEqual(fc.args, { city: 'Paris' });
    assert.match(fc.id, /^function-call-\d+$/);
    assert.equal(session.status, 'awaitingTool');
    assert.ok(!out.trace().includes('serverContent.turnComplete'), 'no turnComplete before the toolResponse');
    const mark = out.messages.length;
    session.handle({ kind: 'toolResponse', toolResponse: { functionResponses: [{ id: fc.id, response: { output: 'sunny' } }] } });
    await out.turnComplete(mark);
    assert.match(out.text(mark), /get_weather returned \{"output":"sunny"\}/);
    assert.deepEqual(out.trace().slice(-2), ['serverContent.generationComplete', 'serverContent.turnComplete']);
    assert.equal(session.status, 'idle');
  });

  test('a response without name is matched on id (Mastra)', async () => {
    const { session, out } = makeSession({ tools: weatherTool });
    session.handle(userText('get weather please'));
    await out.until((m) => 'toolCall' in m);
    const m = out.messages.find((x) => 'toolCall' in x);
    const id = m && 'toolCall' in m ? m.toolCall.functionCalls[0]!.id : '';
    session.handle({ kind: 'toolResponse', toolResponse: { functionResponses: [{ id, response: { forecast: 'rain' } }] } });
    await out.turnComplete();
    assert.match(out.text(), /rain/);
  });

  test('an unknown id is ignored in loose mode and refused with 1008 in strict mode', async () => {
    const loose = makeSession({ tools: weatherTool });
    loose.session.handle({ kind: 'toolResponse', toolResponse: { functionResponses: [{ id: 'nope', response: {} }] } });
    assert.equal(loose.out.closed, undefined);
    const strict = makeSession({ tools: weatherTool }, undefined, true);
    strict.session.handle({ kind: 'toolResponse', toolResponse: { functionResponses: [{ id: 'nope', response: {} }] } });
    assert.deepEqual(strict.out.closed, { code: 1008, reason: 'Requested entity was not found.' });
  });

  test('barge-in during a pending call: interrupted, toolCallCancellation, turnComplete', async () => {
    const { session, out } = makeSession({ tools: weatherTool });
    session.handle(userText('get_weather city=Oslo'));
    await out.until((m) => 'toolCall' in m);
    const call = out.messages.find((m) => 'toolCall' in m);
    const id = call && 'toolCall' in call ? call.toolCall.functionCalls[0]!.id : '';
    const mark = out.messages.length;
    session.handle(userText('never mind'));
    assert.deepEqual(out.trace(mark).slice(0, 3), ['serverContent.interrupted', 'toolCallCancellation', 'serverContent.turnComplete']);
    const cancel = out.messages[mark + 1];
    assert.ok(cancel && 'toolCallCancellation' in cancel);
    assert.deepEqual(cancel.toolCallCancellation.ids, [id]);
    assert.deepEqual(session.pendingCallIds, []);
  });

  test('a NON_BLOCKING call lets the turn finish; a WHEN_IDLE response starts a new turn', async () => {
    const { session, out } = makeSession({
      tools: [{ functionDeclarations: [{ name: 'lookup', behavior: 'NON_BLOCKING' }] }],
    });
    session.handle(userText('lookup something'));
    await out.until((m) => 'toolCall' in m);
    const call = out.messages.find((m) => 'toolCall' in m);
    const id = call && 'toolCall' in call ? call.toolCall.functionCalls[0]!.id : '';
    await out.turnComplete();
    assert.equal(session.status, 'idle');
    const mark = out.messages.length;
    session.handle({ kind: 'toolResponse', toolResponse: { functionResponses: [{ id, response: { result: 42 } }], } });
    await out.turnComplete(mark);
    assert.match(out.text(mark), /lookup returned \{"result":42\}/);
  });

  test('a SILENT response only adds to the context', async () => {
    const { session, out } = makeSession({ tools: [{ functionDeclarations: [{ name: 'lookup', behavior: 'NON_BLOCKING' }] }] });
    session.handle(userText('lookup'));
    await out.until((m) => 'toolCall' in m);
    await out.turnComplete();
    const call = out.messages.find((m) => 'toolCall' in m);
    const id = call && 'toolCall' in call ? call.toolCall.functionCalls[0]!.id : '';
    const mark = out.messages.length;
    session.handle({ kind: 'toolResponse', toolResponse: { functionResponses: [{ id, response: { r: 1 }, scheduling: 'SILENT' }] } });
    await new Promise((r) => setImmediate(r));
    assert.equal(out.messages.length, mark);
    assert.equal(session.history.at(-1)?.parts[0]?.kind, 'functionResponse');
  });
});

describe('LiveSession realtime input and context updates', () => {
  test('manual activity: activityStart … activityEnd brackets a user turn', async () => {
    const { session, out } = makeSession({ realtimeInputConfig: { automaticActivityDetection: { disabled: true } } });
    session.handle({ kind: 'realtimeInput', realtimeInput: { activityStart: {} } });
    // 0.5 s of 16 kHz PCM16 = 16,000 bytes.
    session.handle({ kind: 'realtimeInput', realtimeInput: { audio: { mimeType: 'audio/pcm;rate=16000', data: Buffer.alloc(16_000).toString('base64') } } });
    assert.equal(out.messages.length, 0);
    session.handle({ kind: 'realtimeInput', realtimeInput: { activityEnd: {} } });
    await out.turnComplete();
    assert.match(out.text(), /I heard 0\.5 seconds of audio/);
    assert.deepEqual(session.history[0], { role: 'user', parts: [{ kind: 'audio', seconds: 0.5 }] });
  });

  test('audio without a rate is 16 kHz; rate=24000 is honoured (Pipecat)', async () => {
    const { session, out } = makeSession({ realtimeInputConfig: { automaticActivityDetection: { disabled: true } } });
    session.handle({ kind: 'realtimeInput', realtimeInput: { activityStart: {} } });
    session.handle({ kind: 'realtimeInput', realtimeInput: { mediaChunks: [{ mimeType: 'audio/pcm;rate=24000', data: Buffer.alloc(48_000).toString('base64') }] } });
    session.handle({ kind: 'realtimeInput', realtimeInput: { audio: { mimeType: 'audio/pcm', data: Buffer.alloc(32_000).toString('base64') } } });
    session.handle({ kind: 'realtimeInput', realtimeInput: { activityEnd: {} } });
    await out.turnComplete();
    assert.match(out.text(), /I heard 2\.0 seconds/);
  });

  test('audioStreamEnd ends a turn of buffered audio under automatic activity detection', async () => {
    const { session, out } = makeSession();
    session.handle({ kind: 'realtimeInput', realtimeInput: { audio: { mimeType: 'audio/pcm;rate=16000', data: Buffer.alloc(32_000).toString('base64') } } });
    session.handle({ kind: 'realtimeInput', realtimeInput: { audioStreamEnd: true } });
    await out.turnComplete();
    assert.match(out.text(), /I heard 1\.0 seconds/);
  });

  test('activityStart under automatic activity detection closes 1007', () => {
    const { session, out } = makeSession();
    session.handle({ kind: 'realtimeInput', realtimeInput: { activityStart: {} } });
    assert.deepEqual(out.closed, { code: 1007, reason: 'Request contains an invalid argument.' });
  });

  test('contextUpdate replaces the system instruction and tools, an empty list clears them', () => {
    const { session } = makeSession({ tools: weatherTool });
    session.handle({ kind: 'contextUpdate', contextUpdate: { systemInstruction: { parts: [{ text: 'Be brief.' }] } } });
    assert.deepEqual(session.config.systemInstruction, { parts: [{ text: 'Be brief.' }] });
    assert.equal(session.config.tools.length, 1);
    session.handle({ kind: 'contextUpdate', contextUpdate: { tools: {} } });
    assert.equal(session.config.tools.length, 0);
  });

  test('a scripted failure closes with its code and reason', async () => {
    const { session, out } = makeSession({}, `
rules:
  - match: { text: crash }
    reply: [{ text: "Oops." }, { close: unavailable }]
`);
    session.handle(userText('crash now'));
    await waitFor(() => out.closed, 'the scripted close');
    assert.deepEqual(out.closed, { code: 1011, reason: 'The service is currently unavailable.' });
  });
});
