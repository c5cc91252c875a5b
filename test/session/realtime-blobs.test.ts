/** The one rule for which blobs of a realtimeInput count, and as what. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_AUDIO_MIME, realtimeBlobs } from '../../src/session/realtime-blobs.js';

test('only the first of mediaChunks counts, then audio, then video, in that order', () => {
  const blobs = realtimeBlobs({
    video: { mimeType: 'image/jpeg', data: 'dmlk' },
    audio: { mimeType: 'audio/pcm;rate=24000', data: 'YXVk' },
    mediaChunks: [
      { mimeType: 'audio/pcm', data: 'Zmlyc3Q=' },
      { mimeType: 'audio/pcm', data: 'c2Vjb25k' },
    ],
  });
  assert.deepEqual(blobs, [
    { kind: 'audio', data: 'Zmlyc3Q=', mimeType: 'audio/pcm' },
    { kind: 'audio', data: 'YXVk', mimeType: 'audio/pcm;rate=24000' },
    { kind: 'image', data: 'dmlk', mimeType: 'image/jpeg' },
  ]);
});

test('no MIME type is 16 kHz audio; an image type is an image in any field', () => {
  assert.deepEqual(realtimeBlobs({ audio: { data: 'AAAA' } }), [{ kind: 'audio', data: 'AAAA', mimeType: DEFAULT_AUDIO_MIME }]);
  assert.deepEqual(realtimeBlobs({ mediaChunks: [{ mimeType: 'image/png', data: 'AAAA' }] }), [{ kind: 'image', data: 'AAAA', mimeType: 'image/png' }]);
  assert.equal(DEFAULT_AUDIO_MIME, 'audio/pcm;rate=16000');
});

test('other types are no media; a blob without data still counts, with empty data', () => {
  assert.deepEqual(realtimeBlobs({ audio: { mimeType: 'application/json', data: 'AAAA' }, video: { mimeType: 'text/plain' } }), []);
  assert.deepEqual(realtimeBlobs({ video: { mimeType: 'image/jpeg' } }), [{ kind: 'image', data: '', mimeType: 'image/jpeg' }]);
  assert.deepEqual(realtimeBlobs({ text: 'hi', audioStreamEnd: true }), []);
  assert.deepEqual(realtimeBlobs({ mediaChunks: [] }), []);
});
