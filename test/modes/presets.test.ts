/**
 * Each mode's preset closes, with the server, what it created for it, and leaves open what the
 * caller passed in (issue #15 item 7). Spies stand in for the caller's synthesizer and
 * recognizer; the preset's own parts are spied on where they are, in the parts it returns, so
 * that what is observed is the close of the very object the server used.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GeminiEngine } from '../../src/engine/gemini/gemini-engine.js';
import { hasCode } from '../../src/errors.js';
import { emulatorParts } from '../../src/modes/emulate.js';
import { gatewayParts } from '../../src/modes/gateway.js';
import { selfHostParts } from '../../src/modes/self-host.js';
import { assembleServer } from '../../src/server/create-server.js';
import type { ServerParts } from '../../src/server/parts.js';
import type { SpeechSynthesizer } from '../../src/session/speech.js';
import type { SpeechRecognizer } from '../../src/session/voice.js';

/** Options every server here shares: no port of note, no log, no detector model to load. */
const QUIET = { logger: false, port: 0, keepaliveIntervalMs: 0, vad: false } as const;
/** Nothing listens there: the engines reach their backend only when a session asks. */
const NOWHERE = 'http://127.0.0.1:9/v1';

function givenSpeech(closed: string[]): SpeechSynthesizer {
  return {
    synthesize: async () => Buffer.alloc(0),
    close: async () => void closed.push('given speech'),
  };
}

function givenRecognizer(closed: string[]): SpeechRecognizer {
  return { name: 'given', open: () => undefined, close: async () => void closed.push('given recognizer') };
}

/** Records the close of the synthesizer and recognizer the server will use, then calls the real one. */
function spyOnVoice(parts: ServerParts, closed: string[]): void {
  const speech = parts.speech();
  if (speech) {
    const close = speech.close.bind(speech);
    speech.close = () => (closed.push('speech'), close());
  }
  const recognizer = parts.recognizer;
  if (recognizer) {
    const close = recognizer.close.bind(recognizer);
    (recognizer as { close: () => Promise<void> }).close = () => (closed.push(`recognizer ${recognizer.name}`), close());
  }
}

async function runAndClose(parts: ServerParts): Promise<void> {
  const server = assembleServer(parts);
  await server.listen();
  await server.close();
}

describe('emulate preset', () => {
  test('closes the flite synthesizer and pocketsphinx recognizer it created', async () => {
    const closed: string[] = [];
    const parts = emulatorParts(QUIET);
    assert.deepEqual(parts.owned.map((p) => p.name), ['flite synthesizer', 'pocketsphinx recognizer']);
    spyOnVoice(parts, closed);
    await runAndClose(parts);
    assert.deepEqual(closed, ['speech', 'recognizer pocketsphinx']);
  });

  test('uses the synthesizer and recognizer it was given and leaves them open', async () => {
    const closed: string[] = [];
    const speech = givenSpeech(closed);
    const recognizer = givenRecognizer(closed);
    const parts = emulatorParts({ ...QUIET, speech, speechRecognizer: recognizer });
    assert.equal(parts.speech(), speech);
    assert.equal(parts.recognizer, recognizer);
    assert.deepEqual(parts.owned, []);
    await runAndClose(parts);
    assert.deepEqual(closed, []);
  });
});

describe('gateway preset', () => {
  test('a GeminiEngine on the upstream; closes the voice parts it created', async () => {
    const closed: string[] = [];
    const parts = gatewayParts({ ...QUIET, upstream: { baseUrl: NOWHERE, apiKey: 'k' } });
    assert.ok(parts.engine instanceof GeminiEngine);
    spyOnVoice(parts, closed);
    await runAndClose(parts);
    assert.deepEqual(closed, ['speech', 'recognizer pocketsphinx']);
  });

  test('leaves open the synthesizer and recognizer it was given', async () => {
    const closed: string[] = [];
    const parts = gatewayParts({ ...QUIET, speech: givenSpeech(closed), speechRecognizer: givenRecognizer(closed) });
    assert.deepEqual(parts.owned, []);
    await runAndClose(parts);
    assert.deepEqual(closed, []);
  });
});

describe('self-host preset', () => {
  test("closes the server's /audio endpoints it created for sttModel and ttsModel", async () => {
    const closed: string[] = [];
    const parts = selfHostParts({ ...QUIET, openai: { baseUrl: NOWHERE, model: 'm', sttModel: 'whisper-1', ttsModel: 'tts-1' } });
    assert.deepEqual(parts.owned.map((p) => p.name), ['OpenAI speech synthesizer', 'OpenAI transcription recognizer']);
    spyOnVoice(parts, closed);
    await runAndClose(parts);
    assert.deepEqual(closed, ['speech', `recognizer ${parts.recognizer!.name}`]);
  });

  test('leaves open the synthesizer and recognizer it was given', async () => {
    const closed: string[] = [];
    const parts = selfHostParts({ ...QUIET, speech: givenSpeech(closed), speechRecognizer: givenRecognizer(closed), openai: { baseUrl: NOWHERE, model: 'm' } });
    assert.deepEqual(parts.owned, []);
    await runAndClose(parts);
    assert.deepEqual(closed, []);
  });

  test('refuses sttModel beside a speechRecognizer, and ttsModel beside a speech', () => {
    const closed: string[] = [];
    const stt = () => selfHostParts({ ...QUIET, speechRecognizer: givenRecognizer(closed), openai: { baseUrl: NOWHERE, model: 'm', sttModel: 'whisper-1' } });
    const tts = () => selfHostParts({ ...QUIET, speech: givenSpeech(closed), openai: { baseUrl: NOWHERE, model: 'm', ttsModel: 'tts-1' } });
    assert.throws(stt, (err) => hasCode(err, 'RELIVE_ERR_INVALID_OPTION'));
    assert.throws(tts, (err) => hasCode(err, 'RELIVE_ERR_INVALID_OPTION'));
  });
});
