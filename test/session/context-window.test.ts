/**
 * Token accounting and sliding-window compression (PROTOCOL.md §5.5–5.6), on the pure core with
 * the real o200k tokenizer and the scripted engine.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseClientJson } from '../../src/protocol/parse.js';
import { ScriptedEngine } from '../../src/engine/scripted/scripted-engine.js';
import type { ClientMessage, Setup } from '../../src/protocol/client-schema.js';
import { ManualClock } from '../../src/session/clock.js';
import { resolveConfig } from '../../src/session/config.js';
import { compressionSettings } from '../../src/session/context-window.js';
import { newSessionId } from '../../src/session/ids.js';
import { LiveSession } from '../../src/session/live-session.js';
import { DEFAULT_TOKEN_RATES } from '../../src/session/tokens.js';
import { createO200kTokenizer } from '../../src/tokenizer/o200k.js';
import { Recorder } from './recorder.js';

const tokenizer = createO200kTokenizer();

function makeSession(setup: Partial<Setup> = {}) {
  const clock = new ManualClock();
  const resolved = resolveConfig(
    { model: 'models/gemini-live-2.5-flash-preview', generationConfig: { responseModalities: ['TEXT'] }, ...setup },
    { unknownModels: 'accept', apiVersion: 'v1beta' },
  );
  if (!resolved.ok) throw new Error(resolved.detail);
  const compressions: unknown[] = [];
  const session = new LiveSession(newSessionId(), resolved.config, {
    engine: new ScriptedEngine({ clock }),
    speech: undefined,
    audioChunkMs: 100,
    clock,
    strict: false,
    log: { info: () => undefined, warn: () => undefined },
    tokenizer,
    tokenRates: DEFAULT_TOKEN_RATES,
    preambleTokens: 0,
    onCompression: (e) => compressions.push(e),
  });
  const out = new Recorder();
  session.attach(out);
  return { session, out, compressions };
}

const say = (text: string, turnComplete = true): ClientMessage => ({
  kind: 'clientContent',
  clientContent: { turns: [{ role: 'user', parts: [{ text }] }], turnComplete },
});

async function turn(s: ReturnType<typeof makeSession>, text: string) {
  const mark = s.out.messages.length;
  s.session.handle(say(text));
  await s.out.turnComplete(mark);
  const done = s.out.messages.slice(mark).find((m) => 'serverContent' in m && m.serverContent.turnComplete);
  return done && 'usageMetadata' in done ? done.usageMetadata! : undefined;
}

describe('compression settings', () => {
  test('default: trigger at 80 % of the window, target half of the trigger', () => {
    assert.deepEqual(compressionSettings({}, 32_000), { triggerTokens: 25_600, targetTokens: 12_800 });
    assert.deepEqual(compressionSettings({}, 128_000), { triggerTokens: 102_400, targetTokens: 51_200 });
    assert.deepEqual(compressionSettings({ triggerTokens: 1000 }, 32_000), { triggerTokens: 1000, targetTokens: 500 });
    assert.equal(compressionSettings(undefined, 32_000), undefined);
  });

  test('int64 fields given as strings reach the session as numbers', () => {
    const parsed = parseClientJson('{"setup":{"model":"m","contextWindowCompression":{"triggerTokens":"25600","slidingWindow":{"targetTokens":"16000"}}}}');
    assert.equal(parsed.ok, true);
    if (parsed.ok !== true || parsed.message.kind !== 'setup') return;
    const s = makeSession({ contextWindowCompression: parsed.message.setup.contextWindowCompression });
    assert.deepEqual(s.session.compression, { triggerTokens: 25_600, targetTokens: 16_000 });
  });

  test('the model table gives native-audio models 128k and other Live models 32k', () => {
    assert.equal(makeSession({ contextWindowCompression: {} }).session.compression?.triggerTokens, 25_600);
    const native = makeSession({ model: 'models/gemini-2.5-flash-native-audio-preview-09-2025', generationConfig: { responseModalities: ['AUDIO'] }, contextWindowCompression: {} });
    assert.equal(native.session.compression?.triggerTokens, 102_400);
  });
});

describe('usageMetadata', () => {
  test('every turnComplete carries the turn usage; prompt + response = total; details add up', async () => {
    const s = makeSession({ systemInstruction: { parts: [{ text: 'You are a helpful assistant.' }] } });
    const u1 = await turn(s, 'Hello, how are you today?');
    assert.ok(u1);
    const fixed = tokenizer.count('You are a helpful assistant.');
    assert.equal(u1.promptTokenCount, fixed + tokenizer.count('Hello, how are you today?'));
    assert.equal(u1.responseTokenCount, tokenizer.count(s.out.text()));
    assert.equal(u1.totalTokenCount, u1.promptTokenCount! + u1.responseTokenCount!);
    assert.deepEqual(u1.promptTokensDetails, [{ modality: 'TEXT', tokenCount: u1.promptTokenCount }]);
    const u2 = await turn(s, 'again');
    // The second prompt holds the whole conversation so far.
    assert.equal(u2!.promptTokenCount, u1.promptTokenCount! + u1.responseTokenCount! + tokenizer.count('again'));
    assert.deepEqual(s.session.totals, { promptTokens: u1.promptTokenCount! + u2!.promptTokenCount!, responseTokens: u1.responseTokenCount! + u2!.responseTokenCount! });
    assert.equal(s.session.contextTokens, u2!.totalTokenCount);
  });

  test('audio is counted by duration at 25 tokens a second, per modality', async () => {
    const s = makeSession({ realtimeInputConfig: { automaticActivityDetection: { disabled: true } } });
    s.session.handle({ kind: 'realtimeInput', realtimeInput: { activityStart: {} } });
    s.session.handle({ kind: 'realtimeInput', realtimeInput: { audio: { mimeType: 'audio/pcm;rate=16000', data: Buffer.alloc(64_000).toString('base64') } } });
    s.session.handle({ kind: 'realtimeInput', realtimeInput: { activityEnd: {} } });
    await s.out.turnComplete();
    const done = s.out.messages.find((m) => 'serverContent' in m && m.serverContent.turnComplete);
    assert.ok(done && 'usageMetadata' in done);
    assert.deepEqual(done.usageMetadata!.promptTokensDetails, [{ modality: 'AUDIO', tokenCount: 50 }]);
  });
});

describe('sliding-window compression', () => {
  test('off without contextWindowCompression: nothing is ever dropped', async () => {
    const s = makeSession();
    for (let i = 0; i < 20; i++) await turn(s, `message number ${i} with some words in it`);
    assert.equal(s.session.history.length, 40);
    assert.equal(s.session.firstTurn, 0);
  });

  test('drops the oldest turns when the trigger is exceeded, down to the target, starting at a user turn', async () => {
    const s = makeSession({ contextWindowCompression: { triggerTokens: 200, slidingWindow: { targetTokens: 100 } } });
    for (let i = 0; i < 30; i++) await turn(s, `message number ${i} with some words in it`);
    assert.ok(s.compressions.length > 0);
    for (const e of s.session.compressionEvents) {
      assert.ok(e.tokensBefore > 200, 'only past the trigger');
      assert.ok(e.tokensAfter <= 100, `down to the target: ${e.tokensAfter}`);
    }
    assert.equal(s.session.history[0]!.role, 'user');
    assert.ok(s.session.contextTokens <= 200 + 60, 'never far past the trigger');
    // The newest input and its reply are always there.
    assert.match(JSON.stringify(s.session.history.at(-2)), /message number 29/);
    assert.equal(s.session.firstTurn + s.session.history.length, 60);
  });

  test('the cut lands exactly on the first user turn at which the rest fits the target', async () => {
    const s = makeSession({ contextWindowCompression: { triggerTokens: 60, slidingWindow: { targetTokens: 30 } } });
    for (let i = 0; i < 12; i++) await turn(s, `turn ${i}`);
    const e = s.session.compressionEvents[0]!;
    assert.equal(e.turnsDropped % 2, 0, 'whole exchanges: the context begins at a user turn');
    assert.ok(e.tokensAfter <= 30, 'the rest fits the target');
    // One exchange fewer would not have fit: the cut is the first that does.
    const j = e.turnsDropped / 2 - 1;
    const lastDropped = tokenizer.count(`turn ${j}`) + tokenizer.count(`You said: turn ${j}`);
    assert.ok(e.tokensAfter + lastDropped > 30, `${e.tokensAfter} + ${lastDropped}`);
    assert.ok(e.tokensBefore > 60);
  });

  test('never between a function call and its response, and the system instruction and tools stay', async () => {
    const tools = [{ functionDeclarations: [{ name: 'lookup' }] }];
    const s = makeSession({ systemInstruction: { parts: [{ text: 'Be kind.' }] }, tools, contextWindowCompression: { triggerTokens: 150, slidingWindow: { targetTokens: 80 } } });
    for (let i = 0; i < 12; i++) {
      const mark = s.out.messages.length;
      s.session.handle(say(`please lookup item=${i}`));
      await s.out.until((m) => 'toolCall' in m, mark);
      const call = s.out.messages.slice(mark).find((m) => 'toolCall' in m);
      const id = call && 'toolCall' in call ? call.toolCall.functionCalls[0]!.id : '';
      s.session.handle({ kind: 'toolResponse', toolResponse: { functionResponses: [{ id, response: { value: i } }] } });
      await s.out.turnComplete(mark);
    }
    assert.ok(s.session.compressionEvents.length > 0);
    const calls = new Set<string>();
    for (const t of s.session.history) {
      for (const p of t.parts) {
        if (p.kind === 'functionCall') calls.add(p.id);
        if (p.kind === 'functionResponse') assert.ok(calls.has(p.id), 'every response kept has its call');
      }
    }
    assert.equal(s.session.history[0]!.role, 'user');
    assert.ok(s.session.history[0]!.parts.some((p) => p.kind === 'text'), 'begins at a user input turn, not a function response');
    assert.deepEqual(s.session.config.systemInstruction, { parts: [{ text: 'Be kind.' }] });
    assert.equal(s.session.config.tools.length, 1);
  });
});
