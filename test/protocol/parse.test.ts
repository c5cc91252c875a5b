import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseClientJson, parseClientFrame, type ParseResult } from '../../src/protocol/parse.js';

function ok(result: ParseResult) {
  assert.equal(result.ok, true, JSON.stringify(result));
  if (result.ok !== true) throw new Error('unreachable');
  return result;
}

describe('parseClientJson', () => {
  test('accepts the SDK setup with int64 fields as strings', () => {
    const r = ok(
      parseClientJson(
        '{"setup":{"model":"models/gemini-live-2.5-flash-preview","generationConfig":{"responseModalities":["TEXT"]},"sessionResumption":{"handle":"h"},"contextWindowCompression":{"slidingWindow":{"targetTokens":"16000"},"triggerTokens":"25600"}}}',
      ),
    );
    assert.equal(r.message.kind, 'setup');
    if (r.message.kind !== 'setup') return;
    assert.equal(r.message.setup.contextWindowCompression?.triggerTokens, 25600);
    assert.equal(r.message.setup.contextWindowCompression?.slidingWindow?.targetTokens, 16000);
    assert.deepEqual(r.message.setup.generationConfig?.responseModalities, ['TEXT']);
  });

  test('accepts snake_case at every level and a scalar for a list (Pipecat)', () => {
    const r = ok(
      parseClientJson(
        '{"setup":{"model":"models/m","generation_config":{"response_modalities":"AUDIO","speech_config":{"voice_config":{"prebuilt_voice_config":{"voice_name":"Charon"}}},"temperature":0.5}}}',
      ),
    );
    if (r.message.kind !== 'setup') throw new Error('kind');
    const gen = r.message.setup.generationConfig!;
    assert.deepEqual(gen.responseModalities, ['AUDIO']);
    assert.equal(gen.speechConfig?.voiceConfig?.prebuiltVoiceConfig?.voiceName, 'Charon');
    assert.equal(gen.temperature, 0.5);
  });

  test('accepts snake_case top-level kinds (Python SDK, Mastra)', () => {
    const r = ok(parseClientJson('{"realtime_input":{"media_chunks":[{"mime_type":"audio/pcm","data":"AAAA"}]}}'));
    assert.deepEqual(r.message, { kind: 'realtimeInput', realtimeInput: { mediaChunks: [{ mimeType: 'audio/pcm', data: 'AAAA' }] } });
  });

  test('never renames keys inside free-form values', () => {
    const r = ok(
      parseClientJson('{"tool_response":{"function_responses":[{"id":"1","response":{"snake_key":{"inner_key":1}}}]}}'),
    );
    assert.deepEqual(r.message, {
      kind: 'toolResponse',
      toolResponse: { functionResponses: [{ id: '1', response: { snake_key: { inner_key: 1 } } }] },
    });
  });

  test('accepts enum values by name and by number', () => {
    const r = ok(parseClientJson('{"setup":{"model":"m","realtimeInputConfig":{"activityHandling":2}}}'));
    if (r.message.kind !== 'setup') throw new Error('kind');
    assert.equal(r.message.setup.realtimeInputConfig?.activityHandling, 'NO_INTERRUPTION');
  });

  test('reports unknown fields with Google-style paths and leaves them out', () => {
    const r = ok(parseClientJson('{"setup":{"model":"m","generation_config":{"foo":1},"bar":{}}}'));
    assert.deepEqual(r.unknownFields, [
      { name: 'foo', at: 'setup.generation_config' },
      { name: 'bar', at: 'setup' },
    ]);
  });

  test('strict mode refuses an unknown field with the real reason text', () => {
    const r = parseClientJson('{"setup":{"model":"m","generation_config":{"foo":1}}}', { strict: true });
    assert.equal(r.ok, false);
    if (r.ok !== false) return;
    assert.equal(r.close.code, 1007);
    assert.equal(r.close.reason, `Invalid JSON payload received. Unknown name "foo" at 'setup.generation_config': Cannot find field.`);
  });

  test('strict mode refuses a scalar where a list is expected', () => {
    const r = parseClientJson('{"setup":{"model":"m","generationConfig":{"responseModalities":"AUDIO"}}}', { strict: true });
    assert.equal(r.ok, false);
  });

  test('accepts several realtimeInput fields in one frame', () => {
    const r = ok(parseClientJson('{"realtimeInput":{"audio":{"data":"AAAA","mimeType":"audio/pcm;rate=16000"},"text":"both"}}'));
    if (r.message.kind !== 'realtimeInput') throw new Error('kind');
    assert.equal(r.message.realtimeInput.text, 'both');
    assert.equal(r.message.realtimeInput.audio?.mimeType, 'audio/pcm;rate=16000');
  });

  test('recognises Mastra type-tagged messages as foreign', () => {
    assert.deepEqual(parseClientJson('{"type":"session.update","session":{}}'), { ok: 'foreign', type: 'session.update' });
  });

  for (const [name, text] of [
    ['non-JSON', 'hello'],
    ['a JSON array', '[1]'],
    ['a JSON number', '5'],
    ['an empty object', '{}'],
    ['an unknown message kind', '{"foo":{}}'],
    ['two message kinds', '{"setup":{"model":"m"},"clientContent":{}}'],
    ['a setup without model', '{"setup":{}}'],
    ['a model of the wrong type', '{"setup":{"model":5}}'],
    ['turns of the wrong type', '{"clientContent":{"turns":5}}'],
    ['audio data that is not base64', '{"realtimeInput":{"audio":{"data":"***"}}}'],
    ['an unknown enum name', '{"setup":{"model":"m","generationConfig":{"responseModalities":["SMELL"]}}}'],
  ] as const) {
    test(`refuses ${name} with 1007 invalid argument`, () => {
      const r = parseClientJson(text);
      assert.equal(r.ok, false);
      if (r.ok !== false) return;
      assert.deepEqual(r.close, { code: 1007, reason: 'Request contains an invalid argument.' });
    });
  }
});

describe('parseClientFrame', () => {
  test('decodes binary frames as UTF-8 JSON', () => {
    ok(parseClientFrame(Buffer.from('{"setup":{"model":"m"}}'), true));
  });

  test('refuses a binary frame that is not UTF-8', () => {
    const r = parseClientFrame(Buffer.from([0xff, 0xfe, 0x7b]), true);
    assert.equal(r.ok, false);
  });
});
