/** The openai engine's request: relive's conversation, system instruction and tools in OpenAI's terms. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NO_RESPONSE, toChatMessages } from '../../src/engine/openai/messages.js';
import { OpenAIEngine } from '../../src/engine/openai/openai-engine.js';
import { chatRequestBody } from '../../src/engine/openai/request.js';
import { toChatTools, toJsonSchema } from '../../src/engine/openai/tools.js';
import type { Setup } from '../../src/protocol/client-schema.js';
import { resolveConfig, type SessionConfig } from '../../src/session/config.js';
import type { ContextTurn } from '../../src/session/context.js';

function configOf(setup: Partial<Setup> = {}): SessionConfig {
  const resolved = resolveConfig({ model: 'models/m', generationConfig: { responseModalities: ['TEXT'] }, ...setup }, { unknownModels: 'accept', apiVersion: 'v1beta' });
  if (!resolved.ok) throw new Error(resolved.detail);
  return resolved.config;
}

const user = (text: string): ContextTurn => ({ role: 'user', parts: [{ kind: 'text', text }] });
const model = (text: string): ContextTurn => ({ role: 'model', parts: [{ kind: 'text', text }] });
const call = (id: string, name: string, args: Record<string, unknown> = {}): ContextTurn => ({ role: 'model', parts: [{ kind: 'functionCall', id, name, args }] });
const response = (id: string, name: string, r: Record<string, unknown>): ContextTurn => ({ role: 'user', parts: [{ kind: 'functionResponse', id, name, response: r }] });

describe('openai messages', () => {
  test('the system instruction becomes the system message, its text parts one line each', () => {
    const messages = toChatMessages({ parts: [{ text: 'You are terse.' }, { text: 'Answer in French.' }] }, [user('hi')]);
    assert.deepEqual(messages, [
      { role: 'system', content: 'You are terse.\nAnswer in French.' },
      { role: 'user', content: 'hi' },
    ]);
    assert.deepEqual(toChatMessages(undefined, [user('hi')]), [{ role: 'user', content: 'hi' }]);
  });

  test('user text and audio transcripts are user content; audio without a transcript and images are notes', () => {
    const turn: ContextTurn = {
      role: 'user',
      parts: [
        { kind: 'audio', seconds: 1.2, transcript: 'what is on this picture' },
        { kind: 'image', mimeType: 'image/jpeg' },
        { kind: 'audio', seconds: 2.43 },
        { kind: 'text', text: 'typed too' },
      ],
    };
    assert.deepEqual(toChatMessages(undefined, [turn]), [
      {
        role: 'user',
        content:
          'what is on this picture\n[an image (image/jpeg) was sent; this model cannot see images]\n[2.4 s of audio the speech recognizer could not transcribe]\ntyped too',
      },
    ]);
  });

  test('a spoken turn the recognizer returned no words for is still a turn, as a note', () => {
    assert.deepEqual(toChatMessages(undefined, [{ role: 'user', parts: [{ kind: 'audio', seconds: 0.8, transcript: ' ' }] }]), [
      { role: 'user', content: '[0.8 s of audio the speech recognizer could not transcribe]' },
    ]);
  });

  test('model text is the assistant; thoughts are not sent, and a turn of thoughts only sends nothing', () => {
    const thinking: ContextTurn = { role: 'model', parts: [{ kind: 'text', text: 'hmm', thought: true }] };
    const spoken: ContextTurn = { role: 'model', parts: [{ kind: 'audio', seconds: 1.5, transcript: 'Hello there.' }, { kind: 'text', text: 'plan', thought: true }] };
    assert.deepEqual(toChatMessages(undefined, [user('a'), thinking, user('b'), spoken]), [
      { role: 'user', content: 'a\nb' },
      { role: 'assistant', content: 'Hello there.' },
    ]);
  });

  test('a function call is an assistant tool_calls message, its response a tool message with JSON content', () => {
    const turn: ContextTurn = {
      role: 'model',
      parts: [
        { kind: 'text', text: 'Let me check.' },
        { kind: 'functionCall', id: 'function-call-1', name: 'get_weather', args: { city: 'Paris' } },
      ],
    };
    assert.deepEqual(toChatMessages(undefined, [user('weather?'), turn, response('function-call-1', 'get_weather', { temp: 21 }), model('21 degrees.')]), [
      { role: 'user', content: 'weather?' },
      {
        role: 'assistant',
        content: 'Let me check.',
        tool_calls: [{ id: 'function-call-1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
      },
      { role: 'tool', tool_call_id: 'function-call-1', content: '{"temp":21}' },
      { role: 'assistant', content: '21 degrees.' },
    ]);
  });

  test('parallel calls are one assistant message; their responses follow in call order', () => {
    const calls: ContextTurn = {
      role: 'model',
      parts: [
        { kind: 'functionCall', id: 'a', name: 'f', args: {} },
        { kind: 'functionCall', id: 'b', name: 'g', args: { x: 1 } },
      ],
    };
    const answers: ContextTurn = {
      role: 'user',
      parts: [
        { kind: 'functionResponse', id: 'b', name: 'g', response: { y: 2 } },
        { kind: 'functionResponse', id: 'a', name: 'f', response: {} },
      ],
    };
    const messages = toChatMessages(undefined, [user('go'), calls, answers]);
    assert.deepEqual(
      messages.map((m) => m.role),
      ['user', 'assistant', 'tool', 'tool'],
    );
    assert.equal(messages[1]!.role === 'assistant' && messages[1]!.content, null);
    assert.deepEqual(
      messages.slice(2),
      [
        { role: 'tool', tool_call_id: 'a', content: '{}' },
        { role: 'tool', tool_call_id: 'b', content: '{"y":2}' },
      ],
    );
  });

  test('a call cancelled by a barge-in gets a "no response" tool message, so the history stays valid', () => {
    const messages = toChatMessages(undefined, [user('weather?'), call('c1', 'get_weather'), user('never mind')]);
    assert.deepEqual(messages.slice(1), [
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: NO_RESPONSE },
      { role: 'user', content: 'never mind' },
    ]);
  });

  test('a response that came after more talk (NON_BLOCKING) moves up to its call', () => {
    const history = [user('start a search'), call('s1', 'search'), model('Searching.'), user('thanks'), response('s1', 'search', { hits: 3 })];
    assert.deepEqual(toChatMessages(undefined, history).slice(1), [
      { role: 'assistant', content: null, tool_calls: [{ id: 's1', type: 'function', function: { name: 'search', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 's1', content: '{"hits":3}' },
      { role: 'assistant', content: 'Searching.' },
      { role: 'user', content: 'thanks' },
    ]);
  });

  test('a response whose call is gone (compressed away) becomes a note in a user message', () => {
    assert.deepEqual(toChatMessages(undefined, [response('old', 'lookup', { ok: true }), user('and now?')]), [
      { role: 'user', content: '[result of lookup: {"ok":true}]\nand now?' },
    ]);
  });

  test('neighbouring turns of one role merge into one message', () => {
    assert.deepEqual(toChatMessages(undefined, [user('one'), user('two'), model('Three'), model('four.')]), [
      { role: 'user', content: 'one\ntwo' },
      { role: 'assistant', content: 'Three four.' },
    ]);
  });

  test('calls and responses without ids are paired by name, oldest first', () => {
    const history: ContextTurn[] = [
      user('x'),
      { role: 'model', parts: [{ kind: 'functionCall', id: '', name: 'f', args: {} }, { kind: 'functionCall', id: '', name: 'g', args: {} }] },
      { role: 'user', parts: [{ kind: 'functionResponse', id: '', name: 'g', response: { r: 'g' } }, { kind: 'functionResponse', id: '', name: 'f', response: { r: 'f' } }] },
    ];
    const messages = toChatMessages(undefined, history);
    const assistant = messages[1]!;
    assert.ok(assistant.role === 'assistant' && assistant.tool_calls);
    const [f, g] = assistant.tool_calls;
    assert.ok(f!.id && g!.id && f!.id !== g!.id);
    assert.deepEqual(messages.slice(2), [
      { role: 'tool', tool_call_id: f!.id, content: '{"r":"f"}' },
      { role: 'tool', tool_call_id: g!.id, content: '{"r":"g"}' },
    ]);
  });
});

describe('openai tools', () => {
  test("Gemini's upper-case OpenAPI types become JSON Schema, recursively, with nullable as a type list", () => {
    const parameters = {
      type: 'OBJECT',
      properties: {
        city: { type: 'STRING', description: 'City name' },
        days: { type: 'INTEGER', minimum: 1, nullable: true },
        units: { type: 'STRING', format: 'enum', enum: ['C', 'F'] },
        tags: { type: 'ARRAY', items: { type: 'STRING' }, maxItems: '5' },
        where: { type: 'OBJECT', properties: { lat: { type: 'NUMBER' }, exact: { type: 'BOOLEAN' } }, propertyOrdering: ['lat', 'exact'] },
        either: { anyOf: [{ type: 'STRING' }, { type: 'INTEGER' }] },
      },
      required: ['city'],
    };
    assert.deepEqual(toJsonSchema(parameters), {
      type: 'object',
      properties: {
        city: { type: 'string', description: 'City name' },
        days: { type: ['integer', 'null'], minimum: 1 },
        units: { type: 'string', enum: ['C', 'F'] },
        tags: { type: 'array', items: { type: 'string' }, maxItems: 5 },
        where: { type: 'object', properties: { lat: { type: 'number' }, exact: { type: 'boolean' } } },
        either: { anyOf: [{ type: 'string' }, { type: 'integer' }] },
      },
      required: ['city'],
    });
  });

  test('declarations become function tools; parametersJsonSchema goes through as is; other tools are dropped', () => {
    const jsonSchema = { type: 'object', properties: { q: { type: 'string', minLength: 1 } }, additionalProperties: false };
    const tools = toChatTools([
      {
        functionDeclarations: [
          { name: 'get_time', description: 'The time now' },
          { name: 'search', parametersJsonSchema: jsonSchema },
          { name: 'add', parameters: { type: 'OBJECT', properties: { a: { type: 'NUMBER' } } }, behavior: 'NON_BLOCKING' },
        ],
      },
      { googleSearch: {} },
    ]);
    assert.deepEqual(tools, [
      { type: 'function', function: { name: 'get_time', description: 'The time now', parameters: { type: 'object', properties: {} } } },
      { type: 'function', function: { name: 'search', parameters: jsonSchema } },
      { type: 'function', function: { name: 'add', parameters: { type: 'object', properties: { a: { type: 'number' } } } } },
    ]);
  });
});

describe('openai request body', () => {
  test('streams with usage, omits tools when none are declared, and sends the model asked for', () => {
    const body = chatRequestBody('llama3.2', { config: configOf(), history: [user('hi')], userTurns: 1 }, {});
    assert.deepEqual(body, { model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
  });

  test("the client's generationConfig overrides the engine's temperature and token limit", () => {
    const config = configOf({ generationConfig: { responseModalities: ['TEXT'], temperature: 0.2, maxOutputTokens: 64, topP: 0.9, seed: 7 } });
    const body = chatRequestBody('m', { config, history: [user('hi')], userTurns: 1 }, { temperature: 1, maxTokens: 500 });
    assert.equal(body.temperature, 0.2);
    assert.equal(body.max_tokens, 64);
    assert.equal(body.top_p, 0.9);
    assert.equal(body.seed, 7);
    const defaults = chatRequestBody('m', { config: configOf(), history: [user('hi')], userTurns: 1 }, { temperature: 1, maxTokens: 500 });
    assert.equal(defaults.temperature, 1);
    assert.equal(defaults.max_tokens, 500);
  });

  test('the endpoint is the base URL plus /chat/completions, with no double slash', () => {
    assert.equal(new OpenAIEngine({ baseUrl: 'http://localhost:11434/v1/', model: 'm' }).endpoint, 'http://localhost:11434/v1/chat/completions');
    assert.equal(new OpenAIEngine({ baseUrl: 'http://localhost:8000/v1', model: 'm' }).endpoint, 'http://localhost:8000/v1/chat/completions');
    assert.throws(() => new OpenAIEngine({ baseUrl: 'localhost:8000', model: 'm' }), /http or https/);
    assert.throws(() => new OpenAIEngine({ baseUrl: 'nonsense', model: 'm' }), /not a URL/);
    assert.throws(() => new OpenAIEngine({ baseUrl: 'http://h/v1', model: ' ' }), /model name is empty/);
  });
});
