/** `relive --engine openai`: the flags, their checks, and a served turn through the command. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Modality } from '@google/genai';
import { parseServeArgs, SERVE_USAGE } from '../../src/cli/serve-options.js';
import { startBin } from '../helpers/bin.js';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { Inbox, sdk } from '../helpers/server.js';

describe('relive --engine', () => {
  test('the scripted engine is the default', () => {
    const parsed = parseServeArgs([], {});
    assert.ok(!('help' in parsed));
    assert.deepEqual(parsed.engine, { kind: 'scripted' });
  });

  test('openai takes the base URL and model from flags and the key from OPENAI_API_KEY', () => {
    const parsed = parseServeArgs(['--engine', 'openai', '--openai-base-url', 'http://localhost:11434/v1', '--openai-model', 'llama3.2'], { OPENAI_API_KEY: 'sk-x' });
    assert.ok(!('help' in parsed));
    assert.deepEqual(parsed.engine, { kind: 'openai', baseUrl: 'http://localhost:11434/v1', model: 'llama3.2', apiKey: 'sk-x' });
    const keyless = parseServeArgs(['--engine', 'openai', '--openai-base-url', 'http://localhost:8080/v1', '--openai-model', 'm'], {});
    assert.ok(!('help' in keyless) && keyless.engine.kind === 'openai');
    assert.equal(keyless.engine.apiKey, undefined);
  });

  test('mistakes are refused with a message that says what to do', () => {
    const openai = ['--engine', 'openai'];
    assert.throws(() => parseServeArgs(['--engine', 'gpt'], {}), /--engine must be scripted, openai or gemini/);
    assert.throws(() => parseServeArgs([...openai, '--openai-model', 'm'], {}), /--engine openai needs --openai-base-url URL.*11434\/v1/);
    assert.throws(() => parseServeArgs([...openai, '--openai-base-url', 'http://h/v1'], {}), /--engine openai needs --openai-model NAME/);
    assert.throws(() => parseServeArgs([...openai, '--openai-base-url', 'localhost:11434', '--openai-model', 'm'], {}), /must be an http:\/\/ or https:\/\/ URL/);
    assert.throws(() => parseServeArgs([...openai, '--openai-base-url', 'http://h/v1/chat/completions', '--openai-model', 'm'], {}), /without \/chat\/completions/);
    assert.throws(() => parseServeArgs(['--openai-model', 'm'], {}), /--openai-model only applies with --engine openai/);
    assert.throws(() => parseServeArgs([...openai, '--openai-base-url', 'http://h/v1', '--openai-model', 'm', '--script', 's.yaml'], {}), /--script is for the scripted engine/);
  });

  test('the usage text documents the engine flags', () => {
    for (const flag of ['--engine NAME', '--openai-base-url URL', '--openai-model NAME', 'OPENAI_API_KEY']) assert.ok(SERVE_USAGE.includes(flag), flag);
  });

  test('relive serve --engine openai answers from the backend, with the key as a Bearer token', async () => {
    const fake = await startFakeOpenAI(() => ({ text: ['Served', ' by the backend.'] }));
    try {
      await serveThrough(fake);
    } finally {
      await fake.close();
    }
  });
});

async function serveThrough(fake: FakeOpenAI): Promise<void> {
  const bin = startBin(['--port', '0', '--store', 'memory', '--engine', 'openai', '--openai-base-url', fake.baseUrl, '--openai-model', 'llama3.2'], {
    OPENAI_API_KEY: 'sk-cli',
  });
  const url = await bin.listening;
  const started = JSON.parse(bin.lines.find((l) => l.includes('relive listening'))!) as Record<string, unknown>;
  assert.equal(started.engine, 'openai');
  assert.equal(started.mode, 'self-host');
  assert.equal(started.openaiApiKey, 'set', 'the key itself is not logged');
  assert.ok(!bin.lines.some((l) => l.includes('sk-cli')));
  const inbox = new Inbox();
  const session = await sdk(url).live.connect({ model: 'gemini-live-2.5-flash-preview', config: { responseModalities: [Modality.TEXT] }, callbacks: inbox.callbacks });
  session.sendClientContent({ turns: 'hello' });
  await inbox.turnComplete();
  assert.equal(inbox.text(), 'Served by the backend.');
  const request = await fake.request(0);
  assert.equal(request.body.model, 'llama3.2');
  assert.equal(request.headers.authorization, 'Bearer sk-cli');
  session.close();
  await inbox.waitClose();
  bin.child.kill('SIGTERM');
  assert.equal(await bin.exited, 0);
}

test('--openai-stt-model and --openai-tts-model choose the server\'s own speech endpoints; only with --engine openai', async () => {
  const { parseServeArgs } = await import('../../src/cli/serve-options.js');
  const parsed = parseServeArgs(['--engine', 'openai', '--openai-base-url', 'http://h/v1', '--openai-model', 'm', '--openai-stt-model', 'whisper-1', '--openai-tts-model', 'tts-1', '--openai-tts-voice', 'nova'], {});
  assert.ok(!('help' in parsed));
  assert.deepEqual(parsed.engine, { kind: 'openai', baseUrl: 'http://h/v1', model: 'm', apiKey: undefined, sttModel: 'whisper-1', ttsModel: 'tts-1', ttsVoice: 'nova' });
  assert.throws(() => parseServeArgs(['--openai-stt-model', 'whisper-1'], {}), /only apply with --engine openai/);
  assert.throws(() => parseServeArgs(['--engine', 'openai', '--openai-base-url', 'http://h/v1', '--openai-model', 'm', '--openai-tts-voice', 'nova'], {}), /needs --openai-tts-model/);
});
