/**
 * What an AudioTranscriptionConfig asks for beyond the text, through the official SDK:
 * `languageCodes` → each transcript's `languageCode`; `wordTimestamp` → each output transcript's
 * `startOffset`/`endOffset` in the turn's audio and its `words[]` with their own offsets, in order,
 * covering exactly the audio sent. Without them, transcripts are text only.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Modality, type LiveServerMessage, type Transcription } from '@google/genai';
import { parseDuration } from '../../src/protocol/duration.js';
import { Inbox, sdk, startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
before(async () => {
  server = await startServer({ keepaliveIntervalMs: 0 });
});
after(() => server.close());

async function reply(outputAudioTranscription: Record<string, unknown>): Promise<LiveServerMessage[]> {
  const inbox = new Inbox();
  const session = await sdk(server.url).live.connect({
    model: 'gemini-3.8-live',
    config: { responseModalities: [Modality.AUDIO], outputAudioTranscription },
    callbacks: inbox.callbacks,
  });
  session.sendRealtimeInput({ text: 'The first sentence is here. And a second, longer sentence follows it.' });
  await inbox.turnComplete();
  session.close();
  await inbox.waitClose();
  return [...inbox.messages];
}

const seconds = (d: string | undefined) => parseDuration(d ?? '') ?? NaN;

test('wordTimestamp and languageCodes: offsets and words on every output transcript, in order, covering the audio', async () => {
  const messages = await reply({ wordTimestamp: true, languageCodes: ['en-GB', 'fr-FR'] });
  const transcripts = messages.map((m) => m.serverContent?.outputTranscription).filter((t): t is Transcription => t?.text !== undefined);
  assert.ok(transcripts.length >= 2, 'a transcript per sentence');
  assert.ok(transcripts.every((t) => t.languageCode === 'en-GB'));
  const audioMs = messages.flatMap((m) => m.serverContent?.modelTurn?.parts ?? []).reduce((ms, p) => ms + (Buffer.from(p.inlineData?.data ?? '', 'base64').length / 48_000) * 1000, 0);
  assert.equal(seconds(transcripts[0]!.startOffset), 0);
  let at = 0;
  for (const t of transcripts) {
    assert.equal(seconds(t.startOffset), at, 'each sentence starts where the last ended');
    const words = t.words ?? [];
    assert.deepEqual(words.map((w) => w.word), t.text!.trim().split(/\s+/));
    assert.equal(seconds(words[0]!.startOffset), seconds(t.startOffset));
    for (let i = 1; i < words.length; i++) assert.equal(seconds(words[i]!.startOffset), seconds(words[i - 1]!.endOffset));
    // Rounded to the millisecond, the words end where the sentence does.
    assert.ok(Math.abs(seconds(words.at(-1)!.endOffset) - seconds(t.endOffset)) <= 1);
    at = seconds(t.endOffset);
  }
  assert.ok(Math.abs(at - audioMs) <= transcripts.length, `the transcripts cover the ${audioMs} ms of audio sent (${at})`);
});

test('without them: text only', async () => {
  const messages = await reply({});
  const transcripts = messages.map((m) => m.serverContent?.outputTranscription).filter((t): t is Transcription => t?.text !== undefined);
  assert.ok(transcripts.length > 0);
  assert.ok(transcripts.every((t) => Object.keys(t).join() === 'text'), JSON.stringify(transcripts));
});
