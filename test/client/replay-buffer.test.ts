/** The replay buffer: what is kept until a handle covers it, and what the audio bound drops. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReplayBuffer } from '../../src/client/replay-buffer.js';

const audio = { realtimeInput: { audio: { data: 'AAAA', mimeType: 'audio/pcm;rate=16000' } } };
const text = (t: string) => ({ realtimeInput: { text: t } });

function sendAll(buffer: ReplayBuffer, connection: number): void {
  let index = 0;
  for (const e of buffer.toSendOn(connection)) {
    e.connection = connection;
    e.index = ++index;
  }
}

test('transparent: what the server consumed through an index goes, the rest is sent again on the next connection', () => {
  const b = new ReplayBuffer(30);
  for (const t of ['a', 'b', 'c']) b.add(text(t), 0);
  sendAll(b, 1);
  b.consumedThrough(1, 2);
  assert.deepEqual(b.toSendOn(2).map((e) => (e.wire.realtimeInput as { text: string }).text), ['c']);
  assert.deepEqual(b.toSendOn(1), [], 'nothing is sent twice on the same connection');
});

test('indices are per connection: an index of connection 2 does not prune connection 1 messages', () => {
  const b = new ReplayBuffer(30);
  b.add(text('old'), 0);
  sendAll(b, 1);
  b.add(text('new'), 0);
  b.consumedThrough(2, 5);
  assert.equal(b.size, 2);
});

test('the audio bound drops the oldest audio first and never text; drops are reported once', () => {
  const b = new ReplayBuffer(1);
  b.add(text('keep me'), 0);
  for (let i = 0; i < 10; i++) b.add(audio, 0.25);
  assert.equal(b.size, 5, 'one text and four chunks (1 s)');
  assert.deepEqual(b.takeDropped(), { messages: 6, audioSeconds: 1.5 });
  assert.deepEqual(b.takeDropped(), { messages: 0, audioSeconds: 0 });
  assert.deepEqual(b.droppedTotal, { messages: 6, audioSeconds: 1.5 });
  assert.equal(b.toSendOn(1)[0]!.wire.realtimeInput && (b.toSendOn(1)[0]!.wire.realtimeInput as { text?: string }).text, 'keep me');
});

test('audio carrying more than audio (an activity signal) is never dropped', () => {
  const b = new ReplayBuffer(0.1);
  b.add({ realtimeInput: { audio: { data: 'AAAA' }, activityEnd: {} } }, 0.5);
  b.add(audio, 0.5);
  assert.equal(b.size, 1);
  assert.ok((b.toSendOn(1)[0]!.wire.realtimeInput as Record<string, unknown>).activityEnd);
});

test('a seeded session gets only what no turnComplete covered', () => {
  const b = new ReplayBuffer(30);
  b.add(text('answered'), 0);
  sendAll(b, 1);
  b.coverSentOn(1);
  b.add(text('unanswered'), 0);
  b.dropCovered();
  assert.deepEqual(b.toSendOn(2).map((e) => (e.wire.realtimeInput as { text: string }).text), ['unanswered']);
});
