/** The gateway's relay of the user's audio and video to the upstream, message by message. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AudioRelay } from '../../src/engine/gemini/audio-relay.js';

const MIME = 'audio/pcm;rate=16000';
/** `ms` of 16 kHz PCM16 whose first sample is `tag`, to tell chunks apart. */
function chunk(ms: number, tag: number): string {
  const pcm = new Int16Array((16 * ms) as number);
  pcm[0] = tag;
  return Buffer.from(pcm.buffer).toString('base64');
}
const tagOf = (data: string) => Buffer.from(data, 'base64').readInt16LE(0);

function relay() {
  const sent: Record<string, unknown>[] = [];
  const r = new AudioRelay((p) => sent.push(p as Record<string, unknown>));
  const kinds = () => sent.map((m) => (m.audio ? `audio${tagOf((m.audio as { data: string }).data)}` : Object.keys(m)[0]));
  return { r, sent, kinds };
}

describe('audio relay', () => {
  test('audio before speech is held; at a detected start only the last 0.5 s of it goes ahead of the live audio', () => {
    const { r, kinds } = relay();
    for (let i = 1; i <= 10; i++) r.hear({ type: 'audio', data: chunk(100, i), mimeType: MIME });
    assert.deepEqual(kinds(), [], 'nothing sent outside an activity');
    r.hear({ type: 'activityStart' });
    r.hear({ type: 'audio', data: chunk(100, 11), mimeType: MIME });
    r.endTurn();
    assert.deepEqual(kinds(), ['activityStart', 'audio6', 'audio7', 'audio8', 'audio9', 'audio10', 'audio11', 'activityEnd']);
    assert.ok(Math.abs(r.sentSeconds - 0.6) < 1e-9);
    assert.equal(r.pending, false);
  });

  test('a turn ended with no detected start (no detector, audioStreamEnd) sends all held audio inside one activity', () => {
    const { r, kinds } = relay();
    for (let i = 1; i <= 3; i++) r.hear({ type: 'audio', data: chunk(200, i), mimeType: MIME });
    assert.equal(r.pending, true);
    r.endTurn();
    assert.deepEqual(kinds(), ['activityStart', 'audio1', 'audio2', 'audio3', 'activityEnd']);
  });

  test('held audio is bounded to the last 60 s', () => {
    const { r, sent } = relay();
    for (let i = 0; i < 70; i++) r.hear({ type: 'audio', data: chunk(1000, i), mimeType: MIME });
    r.endTurn();
    const audio = sent.filter((m) => m.audio);
    assert.equal(audio.length, 60);
    assert.equal(tagOf((audio[0]!.audio as { data: string }).data), 10);
  });

  test('video frames go at once; a second start inside an activity changes nothing; 24 kHz audio counts its own seconds', () => {
    const { r, kinds } = relay();
    r.hear({ type: 'video', data: 'AAAA', mimeType: 'image/jpeg' });
    r.hear({ type: 'activityStart' });
    r.hear({ type: 'activityStart' });
    r.hear({ type: 'audio', data: Buffer.alloc(48_000).toString('base64'), mimeType: 'audio/pcm;rate=24000' });
    r.endTurn();
    assert.deepEqual(kinds(), ['video', 'activityStart', 'audio0', 'activityEnd']);
    assert.ok(Math.abs(r.sentSeconds - 1) < 1e-9);
  });
});
