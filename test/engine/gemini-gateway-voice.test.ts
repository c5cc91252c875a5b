/**
 * The gateway with voice (issue #8 item 3): the user's audio goes upstream as it arrives and the
 * upstream model's own speech comes back as it is. The upstream is a second relive in emulator
 * mode whose connections last 4 s and end at a goAway between turns, so spoken turns cross
 * upstream rotations. The gateway's own
 * synthesizer and recognizer throw if used: every sample and every transcript the client gets
 * comes from the upstream.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Modality, type LiveServerMessage } from '@google/genai';
import { GeminiEngine } from '../../src/engine/gemini/gemini-engine.js';
import { parseScenario } from '../../src/engine/scripted/scenario.js';
import type { SpeechSynthesizer } from '../../src/session/speech.js';
import type { SpeechRecognizer } from '../../src/session/voice.js';
import { Inbox, sdk, startServer, type TestServer } from '../helpers/server.js';
import { chunks, closeSpeech, concat, silence, speech16k, toBase64 } from '../helpers/speech-audio.js';
import { needs } from '../helpers/system-packages.js';

const MODEL = 'gemini-live-2.5-flash-preview';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const unusedSynthesizer: SpeechSynthesizer = {
  synthesize: () => Promise.reject(new Error('the gateway synthesized speech: the upstream should have spoken')),
  close: async () => undefined,
};
const unusedRecognizer: SpeechRecognizer = {
  name: 'unused',
  close: async () => undefined,
  open: () => {
    throw new Error('the gateway ran a recognizer: the upstream should have transcribed');
  },
};

let upstream: TestServer;
let gateway: TestServer;
let sentence: Int16Array;

before(async () => {
  upstream = await startServer({
    keepaliveIntervalMs: 0,
    // Long enough for a spoken turn's transcript (the upstream's pocketsphinx) within one connection.
    lifetimes: { connectionMs: 4000, goAwayNoticeMs: 500 },
    scenario: parseScenario(
      JSON.stringify({ rules: [{ match: { text: 'story' }, reply: [{ text: 'Once upon a time there was a very long story. '.repeat(6), chunkDelayMs: 80 }] }] }),
      'json',
    ),
  });
  gateway = await startServer({
    keepaliveIntervalMs: 0,
    speech: unusedSynthesizer,
    speechRecognizer: unusedRecognizer,
    engine: new GeminiEngine({ baseUrl: upstream.url, apiKey: 'gateway' }),
  });
  sentence = await speech16k('What is the weather in Paris tomorrow?');
});

after(async () => {
  await gateway.close();
  await upstream.close();
  await closeSpeech();
});

/** Streams 20 ms chunks, `paceMs` apart. */
async function stream(send: (b64: string) => void, samples: Int16Array, paceMs: number): Promise<void> {
  for (const c of chunks(samples, 20)) {
    send(toBase64(c));
    await sleep(paceMs);
  }
}

const audioSeconds = (ms: readonly LiveServerMessage[]) =>
  ms.flatMap((m) => m.serverContent?.modelTurn?.parts ?? []).reduce((s, p) => s + (p.inlineData?.data ? Buffer.from(p.inlineData.data, 'base64').length / 48_000 : 0), 0);
const joined = (ms: readonly LiveServerMessage[], key: 'inputTranscription' | 'outputTranscription') => ms.map((m) => m.serverContent?.[key]?.text ?? '').join('');

interface Detail {
  context: { role: string; parts: { kind: string; seconds?: number; transcript?: string; text?: string }[] }[];
  engine?: { upstream: { rotations: number; audioSentSeconds: number } };
}
async function detail(url: string, id: string): Promise<Detail> {
  return (await (await fetch(`${url}/relive/v1/sessions/${id}`)).json()) as Detail;
}

/** goAway to the (one) upstream session, then waits until the gateway's link has rotated past it. */
async function rotateUpstream(gatewaySessionId: string): Promise<void> {
  const before = (await detail(gateway.url, gatewaySessionId)).engine!.upstream.rotations;
  const { sessions } = (await (await fetch(`${upstream.url}/relive/v1/sessions`)).json()) as { sessions: { id: string }[] };
  assert.equal(sessions.length, 1);
  const sent = await fetch(`${upstream.url}/relive/v1/sessions/${sessions[0]!.id}:goAway`, { method: 'POST', body: '{"timeLeft":"1s"}' });
  assert.equal(sent.status, 200);
  for (let tries = 0; (await detail(gateway.url, gatewaySessionId)).engine!.upstream.rotations === before; tries++) {
    assert.ok(tries < 100, 'the gateway rotated its upstream connection after the goAway');
    await sleep(50);
  }
}

describe('gemini engine (gateway) with voice', () => {
  test('spoken turns: the upstream hears the audio and its own speech and transcripts come back, across upstream rotations', needs('pocketsphinx'), async () => {
    const inbox = new Inbox();
    const session = await sdk(gateway.url).live.connect({
      model: MODEL,
      config: { responseModalities: [Modality.AUDIO], inputAudioTranscription: {}, outputAudioTranscription: {} },
      callbacks: inbox.callbacks,
    });
    const id = inbox.messages[0]!.setupComplete!.sessionId!;
    const spoken = sentence.length / 16_000;
    const turns = 3;
    for (let i = 0; i < turns; i++) {
      const from = inbox.messages.length;
      // Paced a little faster than real time: about 2.5 s per turn, so the turns span upstream lifetimes.
      await stream((data) => session.sendRealtimeInput({ audio: { data, mimeType: 'audio/pcm;rate=16000' } }), concat(silence(400), sentence, silence(1200)), 8);
      await inbox.turnComplete(from);
      const reply = inbox.messages.slice(from);
      // The upstream answers the words it recognized, or, when its recognizer was too slow, the seconds it heard.
      assert.match(joined(reply, 'outputTranscription'), /^(You said: what is the weather in paris tomorrow|I heard \d+\.\d seconds of audio\.)$/, `turn ${i}`);
      // The upstream's own speech: flite at 24 kHz, a few words long.
      assert.ok(audioSeconds(reply) > 1, `turn ${i}: ${audioSeconds(reply).toFixed(2)} s of the upstream's audio`);
      assert.ok(reply.every((m) => !m.serverContent?.modelTurn?.parts?.some((p) => p.text)), 'audio only, no text parts');
      // Between turns the upstream ends its connection as at the end of a lifetime (goAway, then
      // the close), so the turns cross rotations however fast this machine paces them; the 4 s
      // lifetimes may add more, mid-turn.
      if (i < turns - 1) await rotateUpstream(id);
    }
    // The upstream's transcription of the user's speech, relayed (pocketsphinx there, none here).
    await inbox.waitFor((m) => /weather/i.test(m.serverContent?.inputTranscription?.text ?? ''), 0, 5000);
    assert.equal(inbox.messages.some((m) => m.goAway), false, 'the upstream goAways stay behind the gateway');
    assert.equal(inbox.closed, undefined);

    await sleep(1500);
    const mine = await detail(gateway.url, id);
    assert.ok(mine.engine!.upstream.rotations >= 2, `upstream rotations ${mine.engine!.upstream.rotations}`);
    const users = mine.context.filter((t) => t.role === 'user');
    const models = mine.context.filter((t) => t.role === 'model');
    assert.equal(users.length, turns);
    assert.equal(models.length, turns);
    assert.ok(users.some((t) => /weather/i.test(t.parts[0]?.transcript ?? '')), `user transcripts: ${JSON.stringify(users)}`);
    for (const t of models) assert.match(t.parts[0]?.transcript ?? '', /^(You said|I heard)/);

    // Every spoken turn reached the upstream once, whole, across its rotations.
    const { sessions } = (await (await fetch(`${upstream.url}/relive/v1/sessions`)).json()) as { sessions: { id: string }[] };
    assert.equal(sessions.length, 1, 'one upstream session, resumed at every rotation');
    const theirs = await detail(upstream.url, sessions[0]!.id);
    const heardUpstream = theirs.context.filter((t) => t.role === 'user').map((t) => t.parts[0]!.seconds!);
    assert.equal(heardUpstream.length, turns, `upstream user turns: ${JSON.stringify(heardUpstream)}`);
    // Each turn whole: the speech, with the onset before detection and the silence the detector waited for.
    for (const s of heardUpstream) assert.ok(s >= spoken - 0.2 && s <= spoken + 1.5, `upstream turn of ${s} s for a ${spoken.toFixed(2)} s sentence`);
    const sent = mine.engine!.upstream.audioSentSeconds;
    const sum = heardUpstream.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sent - sum) < 0.05, `relayed ${sent} s, upstream holds ${sum} s`);
    session.close();
    await inbox.waitClose();
  });

  test('video frames go upstream as they come: the upstream\'s spoken turn holds the frames sent during it', async () => {
    const inbox = new Inbox();
    const session = await sdk(gateway.url).live.connect({ model: MODEL, config: { responseModalities: [Modality.TEXT] }, callbacks: inbox.callbacks });
    const frame = { data: Buffer.from('a camera frame, as far as this test is concerned').toString('base64'), mimeType: 'image/jpeg' };
    let sent = 0;
    const samples = chunks(concat(silence(300), sentence, silence(1200)), 20);
    for (const [i, c] of samples.entries()) {
      session.sendRealtimeInput({ audio: { data: toBase64(c), mimeType: 'audio/pcm;rate=16000' } });
      // One frame a second, as a camera app sends them, while the user speaks.
      if (i % 50 === 25 && i < 100) {
        session.sendRealtimeInput({ video: frame });
        sent++;
      }
      await sleep(8);
    }
    await inbox.turnComplete();
    assert.match(inbox.text(), /I received 2 images\./, inbox.text());
    const { sessions } = (await (await fetch(`${upstream.url}/relive/v1/sessions`)).json()) as { sessions: { id: string; createdAt: string }[] };
    const newest = sessions.sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0]!;
    const theirs = await detail(upstream.url, newest.id);
    const images = theirs.context.flatMap((t) => t.parts).filter((p) => p.kind === 'image');
    assert.equal(images.length, sent, JSON.stringify({ sessions, theirs }));
    session.close();
    await inbox.waitClose();
  });

  test('barge-in on the upstream\'s own speech: interrupted at once, and the abandoned upstream turn does not leak into the next reply', async () => {
    const inbox = new Inbox();
    const session = await sdk(gateway.url).live.connect({
      model: MODEL,
      config: { responseModalities: [Modality.AUDIO], outputAudioTranscription: {} },
      callbacks: inbox.callbacks,
    });
    session.sendClientContent({ turns: 'tell me a story' });
    await inbox.waitFor((m) => m.serverContent?.modelTurn?.parts?.[0]?.inlineData !== undefined);
    let spoken = false;
    const speaking = stream((data) => session.sendRealtimeInput({ audio: { data, mimeType: 'audio/pcm;rate=16000' } }), concat(sentence, silence(1200)), 10).then(() => (spoken = true));
    await inbox.waitFor((m) => m.serverContent?.interrupted === true);
    assert.equal(spoken, false, 'interrupted while the speech was still being sent, not after it');
    await speaking;
    const cut = inbox.messages.findIndex((m) => m.serverContent?.interrupted);
    await inbox.turnComplete(cut + 2);
    const next = inbox.messages.slice(cut + 2);
    const words = joined(next, 'outputTranscription');
    assert.match(words, /^(You said: what is the weather in paris tomorrow|I heard \d+\.\d seconds of audio\.)$/, `the reply to the speech, not the rest of the story: ${words}`);
    assert.doesNotMatch(words, /upon a time/);
    session.close();
    await inbox.waitClose();
  });
});
