/**
 * gemini-3.1-flash-live-preview as the service runs it: clientContent only as initial history
 * (with historyConfig.initialHistoryInClientContent, before any realtime input or model turn, no
 * function parts), typed input as realtime text, and audio with its transcript in one event. Raw
 * frames where the SDK cannot send a field (historyConfig); relive/client and the gateway keep to
 * the rule.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Modality } from '@google/genai';
import { connectResilient } from '../../src/client/index.js';
import { GeminiEngine } from '../../src/engine/gemini/gemini-engine.js';
import { AppView } from '../helpers/app-view.js';
import { RawClient } from '../helpers/raw-client.js';
import { Inbox, sdk, startServer, type TestServer } from '../helpers/server.js';

const MODEL = 'models/gemini-3.1-flash-live-preview';
const INVALID = { code: 1007, reason: 'Request contains an invalid argument.' };
const setup = (extra: object = {}) => ({ setup: { model: MODEL, generationConfig: { responseModalities: ['AUDIO'] }, ...extra } });
const seeded = setup({ historyConfig: { initialHistoryInClientContent: true } });
const history = { clientContent: { turns: [{ role: 'user', parts: [{ text: 'my name is Ada' }] }, { role: 'model', parts: [{ text: 'Hello Ada.' }] }], turnComplete: false } };

let server: TestServer;
before(async () => {
  server = await startServer({ keepaliveIntervalMs: 0, vad: false });
});
after(() => server.close());

async function closeOf(client: RawClient): Promise<{ code: number; reason: string }> {
  return client.waitClose(5000);
}

async function contextOf(id: string): Promise<string[]> {
  const detail = (await (await fetch(`${server.url}/relive/v1/sessions/${id}`)).json()) as { context: { role: string; parts: { text?: string; transcript?: string }[] }[] };
  return detail.context.map((t) => `${t.role}: ${t.parts.map((p) => p.text ?? p.transcript ?? '').join('')}`);
}

describe('gemini-3.1-flash-live-preview: clientContent only as initial history', () => {
  test('without historyConfig any clientContent is 1007', async () => {
    const client = await RawClient.connect(server.url, setup());
    client.send({ clientContent: { turns: [{ role: 'user', parts: [{ text: 'hello' }] }], turnComplete: true } });
    assert.deepEqual(await closeOf(client), INVALID);
  });

  test('with historyConfig: history before the first turn is taken; realtime text asks; clientContent after that is 1007', async () => {
    const client = await RawClient.connect(server.url, seeded);
    const id = client.messages[0]!.setupComplete.sessionId as string;
    client.send(history);
    client.send({ realtimeInput: { text: 'what is my name' } });
    await client.waitFor((m) => m.serverContent?.turnComplete === true, 5000);
    assert.deepEqual((await contextOf(id)).slice(0, 3), ['user: my name is Ada', 'model: Hello Ada.', 'user: what is my name']);
    client.send(history);
    assert.deepEqual(await closeOf(client), INVALID);
  });

  test('clientContent after realtime input is 1007, even before a model turn', async () => {
    const client = await RawClient.connect(server.url, seeded);
    client.send({ realtimeInput: { audio: { data: Buffer.alloc(320).toString('base64'), mimeType: 'audio/pcm;rate=16000' } } });
    client.send(history);
    assert.deepEqual(await closeOf(client), INVALID);
  });

  test('function calls and responses cannot be seeded: 1007', async () => {
    const client = await RawClient.connect(server.url, seeded);
    client.send({ clientContent: { turns: [{ role: 'model', parts: [{ functionCall: { name: 'f', args: {} } }] }], turnComplete: false } });
    assert.deepEqual(await closeOf(client), INVALID);
  });

  test('a resumed session takes no history (LiveKit replays its chat after every resume): 1007', async () => {
    const first = await RawClient.connect(server.url, setup({ historyConfig: { initialHistoryInClientContent: true }, sessionResumption: {} }));
    first.send({ realtimeInput: { text: 'hello' } });
    const end = await first.waitFor((m) => m.serverContent?.turnComplete === true, 5000);
    const update = await first.waitFor((m) => m.sessionResumptionUpdate?.newHandle !== undefined, 5000, first.messages.indexOf(end));
    await first.dispose();
    const second = await RawClient.connect(server.url, setup({ historyConfig: { initialHistoryInClientContent: true }, sessionResumption: { handle: update.sessionResumptionUpdate.newHandle } }));
    second.send(history);
    assert.deepEqual(await closeOf(second), INVALID);
  });

  test('gemini-3.8-live takes clientContent at any time', async () => {
    const client = await RawClient.connect(server.url, { setup: { model: 'models/gemini-3.8-live', generationConfig: { responseModalities: ['AUDIO'] } } });
    for (let i = 0; i < 2; i++) {
      const from = client.messages.length;
      client.send({ clientContent: { turns: [{ role: 'user', parts: [{ text: `turn ${i}` }] }], turnComplete: true } });
      await client.waitFor((m) => m.serverContent?.turnComplete === true, 5000, from);
    }
    assert.equal(client.closed, undefined);
    await client.dispose();
  });
});

test('3.1 bundles a sentence\'s transcript with its first audio chunk; 2.5 sends them apart', async () => {
  for (const [model, together] of [['gemini-3.1-flash-live-preview', true], ['gemini-2.5-flash-native-audio-preview-12-2025', false]] as const) {
    const inbox = new Inbox();
    const session = await sdk(server.url).live.connect({ model, config: { responseModalities: [Modality.AUDIO], outputAudioTranscription: {} }, callbacks: inbox.callbacks });
    session.sendRealtimeInput({ text: 'Say one thing. Then another.' });
    await inbox.turnComplete();
    const transcripts = inbox.messages.filter((m) => m.serverContent?.outputTranscription?.text);
    assert.ok(transcripts.length > 0, model);
    assert.ok(transcripts.every((m) => (m.serverContent?.modelTurn !== undefined) === together), `${model}: transcript ${together ? 'with' : 'apart from'} its audio`);
    assert.equal(transcripts.map((m) => m.serverContent!.outputTranscription!.text).join(''), 'You said: Say one thing. Then another.');
    session.close();
    await inbox.waitClose();
  }
});

test('the gateway in front of 3.1: typed turns go upstream as realtime text, every turn answered, no 1007', async () => {
  const upstream = await startServer({ keepaliveIntervalMs: 0, vad: false });
  const gateway = await startServer({ keepaliveIntervalMs: 0, vad: false, engine: new GeminiEngine({ baseUrl: upstream.url, apiKey: 'gateway' }) });
  try {
    const inbox = new Inbox();
    const session = await sdk(gateway.url).live.connect({ model: 'gemini-3.1-flash-live-preview', config: { responseModalities: [Modality.AUDIO], outputAudioTranscription: {} }, callbacks: inbox.callbacks });
    for (const text of ['first question', 'second question', 'third question']) {
      const from = inbox.messages.length;
      session.sendRealtimeInput({ text });
      await inbox.turnComplete(from);
      const heard = inbox.messages.slice(from).map((m) => m.serverContent?.outputTranscription?.text ?? '').join('');
      assert.match(heard, new RegExp(`You said: ${text}`));
    }
    const { sessions } = (await (await fetch(`${upstream.url}/relive/v1/sessions`)).json()) as { sessions: { id: string; status: string }[] };
    assert.equal(sessions.length, 1);
    const detail = (await (await fetch(`${upstream.url}/relive/v1/sessions/${sessions[0]!.id}`)).json()) as { status: string; context: { role: string; parts: { text?: string }[] }[] };
    assert.deepEqual(detail.context.filter((t) => t.role === 'user').map((t) => t.parts.map((p) => p.text).join('')), ['first question', 'second question', 'third question']);
    session.close();
    await inbox.waitClose();
  } finally {
    await gateway.close();
    await upstream.close();
  }
});

test('relive/client on 3.1: a handle that no longer resumes gives a fresh session seeded with historyConfig', async () => {
  const app = new AppView();
  const session = await connectResilient({
    model: 'gemini-3.1-flash-live-preview',
    config: { responseModalities: [Modality.AUDIO], outputAudioTranscription: {} },
    callbacks: app.callbacks,
    apiKey: 'seed-3-1',
    baseUrl: server.url,
    reconnect: { initialDelayMs: 5, maxDelayMs: 50 },
  });
  try {
    session.sendRealtimeInput({ text: 'my name is Ada' });
    await app.until(() => {
      const end = app.messages.findIndex((m) => m.serverContent?.turnComplete);
      return end >= 0 && app.messages.slice(end).some((m) => m.sessionResumptionUpdate?.newHandle);
    }, 'the first answer and its handle');
    const post = (body: unknown) => fetch(`${server.url}/relive/v1/faults`, { method: 'POST', body: JSON.stringify(body) });
    await post([
      { match: { messageType: 'realtimeInput', key: 'seed-3-1' }, count: 1, action: { type: 'drop' } },
      { match: { key: 'seed-3-1' }, count: 1, action: { type: 'refuseResume' } },
    ]);
    session.sendRealtimeInput({ text: 'what is my name' });
    await app.until(() => app.turnCompletes() >= 2, 'the second answer');
    const restored = app.events.find((e) => e.type === 'stateRestored');
    assert.ok(restored?.type === 'stateRestored' && restored.via === 'transcript' && restored.restoredTurns === 2, JSON.stringify(app.events));
    assert.equal(app.closed, undefined, 'not closed');
    const { sessions } = (await (await fetch(`${server.url}/relive/v1/sessions`)).json()) as { sessions: { id: string }[] };
    const first = app.messages[0]!.setupComplete!.sessionId!;
    const second = sessions.map((s) => s.id).filter((s) => s !== first);
    const contexts = await Promise.all(second.map((s) => contextOf(s)));
    const seededContext = contexts.find((c) => c[0] === 'user: my name is Ada');
    assert.deepEqual(seededContext?.slice(0, 3), ['user: my name is Ada', 'model: You said: my name is Ada', 'user: what is my name'], JSON.stringify(contexts));
  } finally {
    session.close();
  }
});
