import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { truncateCloseReason, unknownModelClose } from '../../src/protocol/close-codes.js';
import { formatDuration, parseDuration } from '../../src/protocol/duration.js';
import { encodeServerMessage } from '../../src/protocol/encode.js';
import { msg } from '../../src/protocol/server-messages.js';

describe('encodeServerMessage', () => {
  test('pretty-prints with a 2-space indent and a trailing newline, as Google does', () => {
    assert.equal(encodeServerMessage(msg.setupComplete()).toString(), '{\n  "setupComplete": {}\n}\n');
  });

  test('omits proto defaults: a non-resumable update is empty', () => {
    assert.equal(encodeServerMessage(msg.resumptionUpdate()).toString(), '{\n  "sessionResumptionUpdate": {}\n}\n');
  });

  test('writes int64 as a string and keeps proto field order', () => {
    const json = encodeServerMessage(msg.resumptionUpdate('h1', 42)).toString();
    assert.deepEqual(JSON.parse(json), { sessionResumptionUpdate: { newHandle: 'h1', resumable: true, lastConsumedClientMessageIndex: '42' } });
    assert.ok(json.indexOf('newHandle') < json.indexOf('resumable'));
  });

  test('orders function call fields name, args, id', () => {
    const json = encodeServerMessage(msg.toolCall([{ name: 'f', args: { a: 0, b: false }, id: 'function-call-1' }])).toString();
    assert.ok(json.indexOf('"name"') < json.indexOf('"args"') && json.indexOf('"args"') < json.indexOf('"id"'));
    // User data keeps its zero and false values.
    assert.deepEqual(JSON.parse(json).toolCall.functionCalls[0].args, { a: 0, b: false });
  });

  test('labels audio output 24 kHz PCM', () => {
    const m = JSON.parse(encodeServerMessage(msg.audio('AAAA')).toString());
    assert.equal(m.serverContent.modelTurn.parts[0].inlineData.mimeType, 'audio/pcm;rate=24000');
  });

  test('sends goAway time left as a Duration string', () => {
    assert.deepEqual(JSON.parse(encodeServerMessage(msg.goAway(50_000)).toString()), { goAway: { timeLeft: '50s' } });
  });
});

describe('durations', () => {
  test('format whole and fractional seconds', () => {
    assert.equal(formatDuration(50_000), '50s');
    assert.equal(formatDuration(9_500), '9.5s');
    assert.equal(formatDuration(1), '0.001s');
  });

  test('parse what they format, and refuse other text', () => {
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('50s'), 50_000);
    assert.equal(parseDuration('50'), undefined);
  });
});

describe('close reasons', () => {
  test('are cut to 123 bytes on a character boundary', () => {
    const long = unknownModelClose('models/gemini-live-2.5-flash-preview-native-audio-dialog', 'v1alpha').reason;
    const cut = truncateCloseReason(long);
    assert.ok(Buffer.byteLength(cut) <= 123);
    assert.ok(long.startsWith(cut));
    const multibyte = truncateCloseReason('é'.repeat(100));
    assert.equal(multibyte, 'é'.repeat(61));
  });
});
