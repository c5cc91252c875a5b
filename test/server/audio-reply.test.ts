/**
 * AUDIO is the default modality: replies are real speech, synthesized locally, streamed as
 * 24 kHz PCM16 inlineData chunks with an outputTranscription when asked for.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { durationSeconds, rmsDbfs, voicedFraction, zeroCrossingRate } from '../../src/media/pcm/speech-stats.js';
import { Inbox, sdk, startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
before(async () => {
  server = await startServer({ keepaliveIntervalMs: 0 });
});
after(() => server.close());

function audioOf(inbox: Inbox, from = 0): Buffer {
  const chunks: Buffer[] = [];
  for (const m of inbox.messages.slice(from)) {
    for (const p of m.serverContent?.modelTurn?.parts ?? []) {
      if (p.inlineData?.data) {
        assert.equal(p.inlineData.mimeType, 'audio/pcm;rate=24000');
        chunks.push(Buffer.from(p.inlineData.data, 'base64'));
      }
    }
  }
  return Buffer.concat(chunks);
}

describe('audio replies', () => {
  test('a setup without responseModalities gets spoken 24 kHz speech of plausible length', async () => {
    const inbox = new Inbox();
    const session = await sdk(server.url).live.connect({
      model: 'gemini-2.5-flash-native-audio-preview-09-2025',
      config: { outputAudioTranscription: {}, speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Kore' } } } },
      callbacks: inbox.callbacks,
    });
    session.sendClientContent({ turns: 'Hello! Please read this sentence back to me.' });
    await inbox.turnComplete();
    const pcm = audioOf(inbox);
    const seconds = durationSeconds(pcm, 24_000);
    // The reply has about 17 words; speech runs 2–4 words a second.
    const transcript = inbox.messages.map((m) => m.serverContent?.outputTranscription?.text ?? '').join('');
    const words = transcript.split(/\s+/).filter(Boolean).length;
    assert.ok(words >= 10, transcript);
    assert.ok(seconds > words * 0.15 && seconds < words * 0.8, `${seconds} s for ${words} words`);
    assert.ok(rmsDbfs(pcm) > -35, `level ${rmsDbfs(pcm)} dBFS`);
    assert.ok(voicedFraction(pcm, 24_000) > 0.4);
    // Speech has a zero-crossing rate well inside the audio band, unlike silence or a tone.
    const zcr = zeroCrossingRate(pcm, 24_000);
    assert.ok(zcr > 200 && zcr < 5000, `zero-crossing rate ${zcr}`);
    assert.match(transcript, /You said: Hello! Please read this sentence back to me\./);
    // 100 ms chunks: 4,800 bytes each, but the last of each sentence.
    const sizes = inbox.messages.flatMap((m) => (m.serverContent?.modelTurn?.parts ?? []).map((p) => Buffer.from(p.inlineData?.data ?? '', 'base64').length));
    assert.ok(sizes.every((n) => n > 0 && n <= 4800));
    assert.ok(sizes.filter((n) => n === 4800).length >= sizes.length / 2);
    session.close();
    await inbox.waitClose();
  });

  test('a barge-in stops the audio; history keeps only the words already spoken', async () => {
    const slow = await startServer({
      keepaliveIntervalMs: 0,
      // Small chunks and a slow client-side pace are emulated by interrupting after the first chunk.
      scenario: {
        fallback: 'builtin',
        rules: [{ match: { text: 'speech' }, reply: [{ text: 'First sentence is short. ' }, { delayMs: 300 }, { text: 'The second sentence should never be heard by anyone at all.' }] }],
      },
    });
    try {
      const inbox = new Inbox();
      const session = await sdk(slow.url).live.connect({ model: 'gemini-live-2.5-flash-preview', config: { outputAudioTranscription: {} }, callbacks: inbox.callbacks });
      session.sendClientContent({ turns: 'give me a speech' });
      await inbox.waitFor((m) => m.serverContent?.outputTranscription !== undefined);
      const mark = inbox.messages.length;
      session.sendClientContent({ turns: 'quiet' });
      await inbox.waitFor((m) => m.serverContent?.interrupted === true, mark);
      const id = inbox.messages[0]!.setupComplete!.sessionId!;
      await inbox.turnComplete(inbox.messages.findIndex((m, i) => i >= mark && m.serverContent?.turnComplete) + 1);
      const detail = (await (await fetch(`${slow.url}/relive/v1/sessions/${id}`)).json()) as {
        context: { role: string; parts: { kind: string; transcript?: string; seconds?: number }[] }[];
      };
      const spoken = detail.context[1]!;
      assert.equal(spoken.role, 'model');
      assert.equal(spoken.parts[0]!.kind, 'audio');
      assert.match(spoken.parts[0]!.transcript ?? '', /^First sentence is short\.$/);
      assert.ok(!JSON.stringify(detail.context).includes('never be heard'));
      session.close();
      await inbox.waitClose();
    } finally {
      await slow.close();
    }
  });
});
