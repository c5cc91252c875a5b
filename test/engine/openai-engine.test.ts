/**
 * The openai engine end to end: the official SDK talks to relive, relive talks to a fake
 * OpenAI-compatible server over real HTTP, streaming as OpenAI does.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Modality, Type, type FunctionCall, type LiveServerMessage } from '@google/genai';
import { OpenAIEngine } from '../../src/engine/openai/openai-engine.js';
import { resolveConfig } from '../../src/session/config.js';
import type { EngineEvent } from '../../src/session/engine.js';
import { startFakeOpenAI, type Body, type FakeOpenAI, type Plan, type Script } from '../helpers/fake-openai.js';
import { Inbox, sdk, startServer, type TestServer } from '../helpers/server.js';

const MODEL = 'gemini-live-2.5-flash-preview';
const BACKEND_MODEL = 'llama-test';

let fake: FakeOpenAI;
let relive: TestServer;
/** What the fake server answers; each test sets its own. */
let script: Script = () => ({ text: ['Hi.'] });
const warnings: { obj: object; message: string }[] = [];

before(async () => {
  fake = await startFakeOpenAI((body, i) => script(body, i));
  relive = await startServer({
    keepaliveIntervalMs: 0,
    vad: false,
    speechRecognizer: false,
    engine: new OpenAIEngine({ baseUrl: fake.baseUrl, model: BACKEND_MODEL, log: { warn: (obj, message) => warnings.push({ obj, message }) } }),
  });
});
after(async () => {
  await relive.close();
  await fake.close();
});

/** The text of the last user message of a request. */
function lastUser(body: Body): string {
  const users = (body.messages as { role: string; content: string }[]).filter((m) => m.role === 'user');
  return users[users.length - 1]?.content ?? '';
}

const modelTurns = (messages: readonly LiveServerMessage[]): LiveServerMessage[] => messages.filter((m) => m.serverContent?.modelTurn);

describe('openai engine through relive', () => {
  test('streamed text arrives as several modelTurn messages, then generationComplete and turnComplete with the backend usage', async () => {
    script = () => ({ text: ['Hello', ' from', ' the', ' fake', ' model.'], usage: { promptTokens: 42, completionTokens: 5 }, fragmentWrites: true });
    const first = fake.requests.length;
    const inbox = new Inbox();
    const session = await sdk(relive.url).live.connect({
      model: MODEL,
      callbacks: inbox.callbacks,
      config: { responseModalities: [Modality.TEXT], systemInstruction: 'Be brief.' },
    });
    session.sendClientContent({ turns: 'hi' });
    const done = await inbox.turnComplete();
    assert.equal(inbox.text(), 'Hello from the fake model.');
    assert.ok(modelTurns(inbox.messages).length >= 5, `${modelTurns(inbox.messages).length} modelTurn messages`);
    const gc = inbox.messages.findIndex((m) => m.serverContent?.generationComplete);
    assert.ok(gc > 0 && gc < inbox.messages.indexOf(done), 'generationComplete before turnComplete');
    assert.equal(done.usageMetadata?.promptTokenCount, 42);
    assert.equal(done.usageMetadata?.responseTokenCount, 5);
    assert.equal(done.usageMetadata?.totalTokenCount, 47);

    const request = await fake.request(first);
    assert.equal(request.body.model, BACKEND_MODEL);
    assert.equal(request.body.stream, true);
    assert.deepEqual(request.body.stream_options, { include_usage: true });
    assert.equal(request.body.tools, undefined);
    assert.equal(request.headers.authorization, undefined, 'no key, no Authorization header');
    assert.deepEqual(request.body.messages, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hi' },
    ]);

    // The next request carries the whole conversation: relive keeps the context.
    script = () => ({ text: ['Again.'] });
    const mark = inbox.messages.length;
    session.sendClientContent({ turns: 'and again' });
    await inbox.turnComplete(mark);
    assert.deepEqual((await fake.request(first + 1)).body.messages, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'Hello from the fake model.' },
      { role: 'user', content: 'and again' },
    ]);
    session.close();
    await inbox.waitClose();
  });

  test('a declared function: toolCall, toolResponse, then a second request with the tool_calls and tool messages, then text', async () => {
    const first = fake.requests.length;
    script = (_body, i) =>
      i === first
        ? { text: ['Let me check.'], toolCalls: [{ id: 'call_abc123', name: 'get_weather', args: { city: 'Paris', days: 2 } }] }
        : { text: ['It is sunny', ' in Paris.'] };
    const inbox = new Inbox();
    const session = await sdk(relive.url).live.connect({
      model: MODEL,
      callbacks: inbox.callbacks,
      config: {
        responseModalities: [Modality.TEXT],
        tools: [
          {
            functionDeclarations: [
              {
                name: 'get_weather',
                description: 'The weather in a city',
                parameters: {
                  type: Type.OBJECT,
                  properties: { city: { type: Type.STRING }, days: { type: Type.INTEGER, nullable: true } },
                  required: ['city'],
                },
              },
            ],
          },
        ],
      },
    });
    session.sendClientContent({ turns: 'weather in Paris?' });
    const msg = await inbox.waitFor((m) => m.toolCall !== undefined);
    // What the model said before the call reached the client first.
    assert.equal(inbox.text(), 'Let me check.');
    const calls = msg.toolCall!.functionCalls as FunctionCall[];
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.name, 'get_weather');
    assert.deepEqual(calls[0]!.args, { city: 'Paris', days: 2 });
    // The session names calls itself (Gemini's function-call-<digits>); the backend's id stays behind.
    assert.ok(calls[0]!.id);

    const request = await fake.request(first);
    assert.deepEqual(request.body.tools, [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'The weather in a city',
          parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: ['integer', 'null'] } }, required: ['city'] },
        },
      },
    ]);

    const mark = inbox.messages.length;
    session.sendToolResponse({ functionResponses: [{ id: calls[0]!.id, name: 'get_weather', response: { output: 'sunny, 21 C' } }] });
    await inbox.turnComplete(mark);
    assert.equal(inbox.text(mark), 'It is sunny in Paris.');
    const second = await fake.request(first + 1);
    assert.deepEqual(second.body.messages.slice(-3), [
      { role: 'user', content: 'weather in Paris?' },
      {
        role: 'assistant',
        content: 'Let me check.',
        tool_calls: [{ id: calls[0]!.id, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","days":2}' } }],
      },
      { role: 'tool', tool_call_id: calls[0]!.id, content: '{"output":"sunny, 21 C"}' },
    ]);
    assert.equal(fake.requests.length, first + 2, 'one request per generation');
    session.close();
    await inbox.waitClose();
  });

  test('barge-in: new input during a slow stream interrupts it and aborts the HTTP request', async () => {
    const story = Array.from({ length: 40 }, (_, i) => `Sentence ${i + 1} of a long story. `);
    script = (body) => (lastUser(body).includes('story') ? { text: story, delayMs: 100 } : { text: ['Okay, stopping.'] });
    const first = fake.requests.length;
    const inbox = new Inbox();
    const session = await sdk(relive.url).live.connect({ model: MODEL, callbacks: inbox.callbacks, config: { responseModalities: [Modality.TEXT] } });
    session.sendClientContent({ turns: 'tell me a long story' });
    await inbox.waitFor((m) => m.serverContent?.modelTurn !== undefined);
    const mark = inbox.messages.length;
    session.sendClientContent({ turns: 'stop' });
    const interrupted = inbox.messages.indexOf(await inbox.waitFor((m) => m.serverContent?.interrupted === true, mark));
    const slow = await fake.request(first);
    assert.equal(await slow.ended, true, 'the fake server saw the client hang up');
    assert.equal(slow.aborted, true);

    const complete = inbox.messages.indexOf(await inbox.waitFor((m) => m.serverContent?.generationComplete === true, interrupted));
    await inbox.turnComplete(complete);
    assert.equal(inbox.text(interrupted), 'Okay, stopping.');
    // The history, and so the next request, keeps only what the client received of the story.
    const received = modelTurns(inbox.messages.slice(0, interrupted))
      .map((m) => m.serverContent!.modelTurn!.parts!.map((p) => p.text ?? '').join(''))
      .join('');
    assert.ok(received.length > 0 && received.length < story.join('').length, received);
    const next = (await fake.request(first + 1)).body.messages as { role: string; content: string }[];
    assert.deepEqual(next, [
      { role: 'user', content: 'tell me a long story' },
      { role: 'assistant', content: received },
      { role: 'user', content: 'stop' },
    ]);
    session.close();
    await inbox.waitClose();
  });

  test('AUDIO modality: the reply is spoken, sentence by sentence, with its transcription', async () => {
    script = () => ({ text: ['Hello there. ', 'This reply is', ' spoken by relive.'] });
    const inbox = new Inbox();
    const session = await sdk(relive.url).live.connect({ model: MODEL, callbacks: inbox.callbacks, config: { responseModalities: [Modality.AUDIO], outputAudioTranscription: {} } });
    session.sendClientContent({ turns: 'say something' });
    await inbox.turnComplete();
    const audio = inbox.messages.flatMap((m) => (m.serverContent?.modelTurn?.parts ?? []).filter((p) => p.inlineData));
    assert.ok(audio.length >= 5, `${audio.length} audio chunks`);
    assert.ok(audio.every((p) => p.inlineData!.mimeType === 'audio/pcm;rate=24000'));
    const bytes = audio.reduce((n, p) => n + Buffer.from(p.inlineData!.data!, 'base64').length, 0);
    assert.ok(bytes > 24_000 * 2 * 1, `${bytes} bytes: over a second of speech`);
    const transcript = inbox.messages.map((m) => m.serverContent?.outputTranscription?.text ?? '').join('');
    assert.match(transcript, /Hello there\..*spoken by relive\./);
    session.close();
    await inbox.waitClose();
  });

  const closes: [string, Plan, { code: number; reason: RegExp | string }][] = [
    ['429 (quota or rate limit)', { status: 429 }, { code: 1011, reason: 'You exceeded your current quota, please check your plan and billing details.' }],
    ['500', { status: 500 }, { code: 1011, reason: 'The service is currently unavailable.' }],
    ['503', { status: 503 }, { code: 1011, reason: 'The service is currently unavailable.' }],
    ['400', { status: 400 }, { code: 1007, reason: 'Request contains an invalid argument.' }],
    ['401', { status: 401 }, { code: 1007, reason: 'API key not valid. Please pass a valid API key.' }],
    ['403', { status: 403, body: { error: { message: 'forbidden', type: 'permission_error', code: null } } }, { code: 1007, reason: 'API key not valid. Please pass a valid API key.' }],
    ['404 for the model', { status: 404 }, { code: 1008, reason: /^models\/llama-test is not found for API version v1, or is not supported for bidiGenerateContent/ }],
    ['404 for another reason (a wrong base URL)', { status: 404, body: '404 page not found' }, { code: 1008, reason: 'Requested entity was not found.' }],
    ['an error object inside the stream', { text: ['Partial '], streamError: { message: 'overloaded', type: 'server_error', code: null } }, { code: 1011, reason: 'The service is currently unavailable.' }],
    [
      'tool call arguments that are not JSON',
      { toolCalls: [{ name: 'get_weather', args: '{"city": Paris' }] },
      { code: 1011, reason: 'Internal error occurred.' },
    ],
  ];
  for (const [what, plan, expected] of closes) {
    test(`backend trouble closes as Google would: ${what} → ${expected.code}`, async () => {
      script = () => plan;
      const inbox = new Inbox();
      const session = await sdk(relive.url).live.connect({
        model: MODEL,
        callbacks: inbox.callbacks,
        config: { responseModalities: [Modality.TEXT], tools: [{ functionDeclarations: [{ name: 'get_weather' }] }] },
      });
      session.sendClientContent({ turns: 'hello' });
      const closed = await inbox.waitClose();
      assert.equal(closed.code, expected.code);
      if (typeof expected.reason === 'string') assert.equal(closed.reason, expected.reason);
      else assert.match(closed.reason, expected.reason);
      assert.ok(Buffer.byteLength(closed.reason) <= 123);
    });
  }

  test('failures are explained in the log, with what the backend said', () => {
    const quota = warnings.find((w) => /HTTP 429/.test((w.obj as { detail: string }).detail));
    assert.ok(quota, JSON.stringify(warnings));
    assert.match((quota.obj as { detail: string }).detail, /exceeded your current quota/);
    assert.ok(warnings.some((w) => /get_weather with arguments that are not valid JSON/.test((w.obj as { detail: string }).detail)));
  });

  test('an unreachable backend closes 1011 "The service is currently unavailable."', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const down = await startServer({ keepaliveIntervalMs: 0, vad: false, speechRecognizer: false, engine: new OpenAIEngine({ baseUrl: `http://127.0.0.1:${port}/v1`, model: 'm' }) });
    try {
      const inbox = new Inbox();
      const session = await sdk(down.url).live.connect({ model: MODEL, callbacks: inbox.callbacks, config: { responseModalities: [Modality.TEXT] } });
      session.sendClientContent({ turns: 'anyone there?' });
      assert.deepEqual(await inbox.waitClose(), { code: 1011, reason: 'The service is currently unavailable.' });
    } finally {
      await down.close();
    }
  });
});

describe('OpenAIEngine on its own', () => {
  const resolved = resolveConfig({ model: 'models/m', generationConfig: { responseModalities: ['TEXT'], temperature: 0.3 } }, { unknownModels: 'accept', apiVersion: 'v1beta' });
  if (!resolved.ok) throw new Error(resolved.detail);
  const request = { config: resolved.config, history: [{ role: 'user' as const, parts: [{ kind: 'text' as const, text: 'hi' }] }], userTurns: 1 };

  async function run(engine: OpenAIEngine, signal = new AbortController().signal): Promise<EngineEvent[]> {
    const events: EngineEvent[] = [];
    for await (const e of engine.generate(request, signal)) events.push(e);
    return events;
  }

  test('sends the key as a Bearer token, and the temperature the client asked for', async () => {
    script = () => ({ text: ['ok'], usage: { promptTokens: 3, completionTokens: 1 } });
    const first = fake.requests.length;
    const events = await run(new OpenAIEngine({ baseUrl: `${fake.baseUrl}/`, model: 'm', apiKey: 'sk-test', temperature: 1.5, maxTokens: 99 }));
    assert.deepEqual(events, [
      { type: 'text', text: 'ok' },
      { type: 'usage', promptTokens: 3, responseTokens: 1 },
    ]);
    const got = await fake.request(first);
    assert.equal(got.path, '/v1/chat/completions');
    assert.equal(got.headers.authorization, 'Bearer sk-test');
    assert.equal(got.body.temperature, 0.3);
    assert.equal(got.body.max_tokens, 99);
  });

  test('reasoning deltas are thoughts', async () => {
    script = () => ({ reasoning: ['The user greets.'], text: ['Hello!'] });
    const events = await run(new OpenAIEngine({ baseUrl: fake.baseUrl, model: 'm' }));
    assert.deepEqual(events.slice(0, 2), [
      { type: 'thought', text: 'The user greets.' },
      { type: 'text', text: 'Hello!' },
    ]);
  });

  test('an abort ends the stream quietly and closes the HTTP request', async () => {
    script = () => ({ text: ['first '], hang: true });
    const first = fake.requests.length;
    const controller = new AbortController();
    const events: EngineEvent[] = [];
    for await (const e of new OpenAIEngine({ baseUrl: fake.baseUrl, model: 'm' }).generate(request, controller.signal)) {
      events.push(e);
      controller.abort();
    }
    assert.deepEqual(events, [{ type: 'text', text: 'first ' }]);
    assert.equal(await (await fake.request(first)).ended, true);
  });

  test('a server that ignores stream: true and answers one chat.completion still works', async () => {
    const fetchStub: typeof fetch = async () =>
      new Response(
        JSON.stringify({
          id: 'chatcmpl-1',
          object: 'chat.completion',
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
              finish_reason: 'tool_calls',
            },
          ],
          usage: { prompt_tokens: 10, completion_tokens: 4, total_tokens: 14 },
        }),
        { status: 200, headers: { 'content-type': 'application/json' } },
      );
    const events = await run(new OpenAIEngine({ baseUrl: 'http://example.invalid/v1', model: 'm', fetch: fetchStub }));
    assert.deepEqual(events, [
      { type: 'usage', promptTokens: 10, responseTokens: 4 },
      { type: 'toolCall', calls: [{ name: 'f', args: { a: 1 } }] },
    ]);
  });
});
