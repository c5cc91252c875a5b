/**
 * Clients other than the official SDK, replayed from the transcripts in CLIENTS.md: what they
 * send, byte for byte in shape, and what they need back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
before(async () => {
  server = await startServer({ keepaliveIntervalMs: 0 });
});
after(() => server.close());

const pcm16k = (seconds: number) => Buffer.alloc(Math.round(seconds * 32_000)).toString('base64');
const isTurnComplete = (m: Record<string, any>) => m.serverContent?.turnComplete === true;

describe('Mastra (@mastra/voice-google-gemini-live 0.11.3)', () => {
  const path = '/ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContent';

  test('setup without generationConfig, x-goog-api-key, snake_case content: spoken reply, one kind per message', async () => {
    const c = await RawClient.open(server.url, { path, headers: { 'x-goog-api-key': 'mastra-key' } });
    c.send({ setup: { model: 'models/gemini-2.5-flash-native-audio-preview-09-2025', systemInstruction: { parts: [{ text: 'You are a test bot.' }] } } });
    await c.waitFor((m) => m.setupComplete !== undefined);
    c.send({ client_content: { turns: [{ role: 'user', parts: [{ text: 'Hello there' }] }], turnComplete: true } });
    await c.waitFor(isTurnComplete, 15_000);
    const audio = c.messages.filter((m) => m.serverContent?.modelTurn?.parts?.[0]?.inlineData);
    assert.ok(audio.length > 3, 'AUDIO is the default modality');
    // Mastra reads one field per message through an else-if chain.
    for (const m of c.messages) assert.equal(Object.keys(m).filter((k) => k !== 'usageMetadata').length, 1);
    for (const m of c.messages.filter((x) => x.serverContent)) assert.equal(Object.keys(m.serverContent).length, 1);
    await c.dispose();
  });

  test('tools with lower-case JSON-schema types, a tool response without name, legacy media_chunks', async () => {
    const c = await RawClient.open(server.url, { path, headers: { 'x-goog-api-key': 'mastra-key' } });
    c.send({
      setup: {
        // TEXT needs a half-cascade model: native-audio models refuse it (docs/models.md).
        model: 'models/gemini-live-2.5-flash-preview',
        generation_config: { response_modalities: ['TEXT'] },
        tools: [{ functionDeclarations: [{ name: 'get_weather', description: 'Get weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }] }],
      },
    });
    await c.waitFor((m) => m.setupComplete !== undefined);
    c.send({ client_content: { turns: [{ role: 'user', parts: [{ text: 'get_weather for city=Paris' }] }], turnComplete: true } });
    const call = (await c.waitFor((m) => m.toolCall !== undefined)).toolCall.functionCalls[0];
    assert.deepEqual(call.args, { city: 'Paris' });
    const mark = c.messages.length;
    c.send({ toolResponse: { functionResponses: [{ id: call.id, response: { forecast: 'sunny in Paris' } }] } });
    await c.waitFor(isTurnComplete, 3000, mark);
    assert.match(c.textFrom(mark), /sunny in Paris/);
    // send(Int16Array): legacy snake_case media chunks are accepted without a close.
    c.send({ realtime_input: { media_chunks: [{ mime_type: 'audio/pcm', data: pcm16k(0.1) }] } });
    // speak(text, {speaker}) sends a non-standard session.update: ignored after setup.
    c.send({ type: 'session.update', session: { generation_config: { speech_config: { language_code: 'en-GB' } } } });
    assert.equal(await c.staysOpen(200), true);
    await c.dispose();
  });
});

describe('Pipecat (@pipecat-ai/gemini-live-websocket-transport 1.5.7)', () => {
  test('snake_case generation_config with a scalar modality, clientContent before setupComplete, binary frames', async () => {
    const c = await RawClient.open(server.url, { query: 'key=pipecat-key' });
    c.send({
      setup: {
        model: 'models/gemini-2.5-flash-native-audio-preview-12-2025',
        generation_config: { response_modalities: 'AUDIO', speech_config: { voice_config: { prebuilt_voice_config: { voice_name: 'Charon' } } }, temperature: 0.5 },
      },
    });
    // Sent right behind setup, without waiting for setupComplete.
    c.send({ clientContent: { turns: [{ role: 'user', parts: [{ text: 'Initial hello from initial_messages' }] }], turnComplete: true } });
    await c.waitFor(isTurnComplete, 15_000);
    assert.ok(c.frames.every((f) => f.isBinary), 'Pipecat accepts binary frames only');
    assert.ok(c.messages[0]!.setupComplete, 'setupComplete comes first, the queued turn after it');
    assert.ok(c.messages.some((m) => m.serverContent?.modelTurn?.parts?.[0]?.inlineData?.mimeType === 'audio/pcm;rate=24000'));
    // Microphone audio is always labelled 24 kHz.
    c.send({ realtimeInput: { mediaChunks: [{ mimeType: 'audio/pcm;rate=24000', data: Buffer.alloc(4800).toString('base64') }] } });
    assert.equal(await c.staysOpen(200), true);
    await c.dispose();
  });
});

describe('LiveKit (@livekit/agents-plugin-google 1.9.0)', () => {
  test('audio without a rate, manual activity, history replay with turnComplete false, generateReply placeholder', async () => {
    const c = await RawClient.open(server.url, { query: 'key=lk-test-key' });
    c.send({
      setup: {
        // TEXT needs a half-cascade model: native-audio models refuse it (docs/models.md).
        model: 'models/gemini-live-2.5-flash-preview',
        generationConfig: { responseModalities: ['TEXT'] },
        systemInstruction: { parts: [{ text: 'You are a test bot.' }] },
        realtimeInputConfig: { automaticActivityDetection: { disabled: true } },
        sessionResumption: {},
        contextWindowCompression: { slidingWindow: {}, triggerTokens: '20000' },
      },
    });
    await c.waitFor((m) => m.setupComplete !== undefined);
    // History replay after a resume: model text as two identical parts.
    c.send({
      clientContent: {
        turns: [
          { parts: [{ text: 'hello' }], role: 'user' },
          { parts: [{ text: 'Hello from relive.' }, { text: 'Hello from relive.' }], role: 'model' },
        ],
        turnComplete: false,
      },
    });
    c.send({ realtimeInput: { activityStart: {} } });
    for (let i = 0; i < 10; i++) c.send({ realtimeInput: { audio: { mimeType: 'audio/pcm', data: pcm16k(0.05) } } });
    c.send({ realtimeInput: { activityEnd: {} } });
    await c.waitFor(isTurnComplete);
    assert.match(c.textFrom(), /I heard 0\.5 seconds of audio/);
    const mark = c.messages.length;
    c.send({ clientContent: { turns: [{ parts: [{ text: '.' }], role: 'user' }], turnComplete: true } });
    await c.waitFor(isTurnComplete, 3000, mark);
    await c.dispose();
  });
});
