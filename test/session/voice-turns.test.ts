/** The session core under a voice detector: what a spoken turn holds, and when there is none. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScriptedEngine } from '../../src/engine/scripted/scripted-engine.js';
import type { Setup } from '../../src/protocol/client-schema.js';
import { ManualClock } from '../../src/session/clock.js';
import { sessionUnderTest } from './session-under-test.js';

function voiced(setup: Partial<Setup> = {}) {
  const clock = new ManualClock();
  const { session, out } = sessionUnderTest(new ScriptedEngine({ clock }), { inputAudioTranscription: {}, ...setup }, clock);
  const speech = session.openSpeech({ detectsSpeech: true, transcribes: false });
  return { session, out, speech };
}

/** Three seconds of 16 kHz audio, as the session counts it. */
const threeSeconds = { kind: 'realtimeInput', realtimeInput: { audio: { mimeType: 'audio/pcm;rate=16000', data: Buffer.alloc(96_000).toString('base64') } } } as const;

test('silence and audioStreamEnd alone make no turn when a detector listens', () => {
  const { session, out } = voiced();
  session.handle(threeSeconds);
  session.handle({ kind: 'realtimeInput', realtimeInput: { audioStreamEnd: true } });
  assert.equal(session.history.length, 0);
  assert.deepEqual(out.messages, []);
});

test('a spoken turn holds the speech and its transcript, not the silence around it; the reply answers the words', async () => {
  const { session, out, speech } = voiced();
  session.handle(threeSeconds);
  speech.heard('what time is it');
  speech.speechEnded(1.2, 'what time is it');
  await out.turnComplete();
  assert.deepEqual(session.history[0], { role: 'user', parts: [{ kind: 'audio', seconds: 1.2, transcript: 'what time is it' }] });
  assert.deepEqual(out.messages[0], { serverContent: { inputTranscription: { text: 'what time is it' } } });
  assert.match(out.text(), /You said: what time is it/);
});

test('TURN_INCLUDES_ALL_INPUT keeps every second since the last turn', async () => {
  const { session, out, speech } = voiced({ realtimeInputConfig: { turnCoverage: 'TURN_INCLUDES_ALL_INPUT' } });
  session.handle(threeSeconds);
  speech.speechEnded(1.2);
  await out.turnComplete();
  assert.deepEqual(session.history[0], { role: 'user', parts: [{ kind: 'audio', seconds: 3 }] });
});

test('speech while the model answers interrupts it; with NO_INTERRUPTION it does not', async () => {
  for (const [handling, interrupts] of [['START_OF_ACTIVITY_INTERRUPTS', true], ['NO_INTERRUPTION', false]] as const) {
    const { session, out, speech } = voiced({ realtimeInputConfig: { activityHandling: handling } });
    session.handle({ kind: 'clientContent', clientContent: { turns: [{ role: 'user', parts: [{ text: 'talk to me' }] }], turnComplete: true } });
    speech.speechStarted();
    assert.equal(out.messages.some((m) => 'serverContent' in m && m.serverContent.interrupted), interrupts, handling);
  }
});
