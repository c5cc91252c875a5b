import assert from 'node:assert/strict';
import { after, before, describe, mock, test } from 'node:test';
import type { LiveConnectConfig } from '@google/genai';
import { setupFromConfig } from '../../src/client/setup-from-config.js';
import { SdkRecorder } from '../helpers/sdk-recorder.js';

const rec = new SdkRecorder();
before(() => rec.start());
after(() => rec.stop());

const MODEL = 'gemini-live-2.5-flash-preview';

/**
 * Asserts relive's setup is byte-identical to the SDK's for the same config. The SDK only sends
 * sessionResumption when configured, and relive always does, so the SDK is given the one relive
 * would send.
 */
async function assertSameAsSdk(makeConfig: () => LiveConnectConfig | undefined, model = MODEL, handle?: string): Promise<Record<string, unknown>> {
  // A fresh config per use: the SDK mutates the one it is given.
  const sdkConfig: LiveConnectConfig = { ...makeConfig(), sessionResumption: handle !== undefined ? { handle } : {} };
  const { frames, error } = await rec.capture(model, sdkConfig);
  assert.equal(error, undefined, `the SDK refused the config: ${error?.message}`);
  const ours = setupFromConfig(model, makeConfig(), { handle });
  assert.equal(JSON.stringify({ setup: ours }), frames[0]);
  return ours;
}

/** Both the SDK and setupFromConfig reject the config. */
async function assertBothReject(makeConfig: () => LiveConnectConfig, pattern: RegExp): Promise<void> {
  const { error } = await rec.capture(MODEL, makeConfig());
  assert.ok(error, 'the SDK accepted the config');
  assert.throws(() => setupFromConfig(MODEL, makeConfig(), {}), pattern);
}

/** The SDK warns when the deprecated generationConfig is used; keep the test output clean. */
const quietWarnings = () => mock.method(console, 'warn', () => {});

describe('setupFromConfig matches the SDK', () => {
  test('TEXT', async () => {
    const setup = await assertSameAsSdk(() => ({ responseModalities: ['TEXT' as never] }));
    assert.deepEqual(setup, { model: `models/${MODEL}`, generationConfig: { responseModalities: ['TEXT'] }, sessionResumption: {} });
  });

  test('no config at all', async () => {
    await assertSameAsSdk(() => undefined);
  });

  test('AUDIO with speech, thinking, affective dialog, transcriptions and proactivity', async () => {
    await assertSameAsSdk(
      () =>
        ({
          responseModalities: ['AUDIO'],
          temperature: 0.7,
          topP: 0.9,
          topK: 40,
          maxOutputTokens: 256,
          seed: 7,
          mediaResolution: 'MEDIA_RESOLUTION_LOW',
          speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Puck' } }, languageCode: 'en-US' },
          thinkingConfig: { thinkingBudget: 0 },
          enableAffectiveDialog: true,
          inputAudioTranscription: {},
          outputAudioTranscription: {},
          proactivity: { proactiveAudio: true },
        }) as LiveConnectConfig,
      'gemini-2.5-flash-native-audio-preview-09-2025',
    );
  });

  test('zero and false values are sent, not dropped', async () => {
    const setup = await assertSameAsSdk(() => ({ temperature: 0, enableAffectiveDialog: false, seed: 0 }));
    assert.deepEqual(setup.generationConfig, { temperature: 0, seed: 0, enableAffectiveDialog: false });
  });

  test('tools: Gemini schemas, JSON schemas (types upper-cased, nullable, additionalProperties dropped), $schema, built-ins', async () => {
    await assertSameAsSdk(
      () =>
        ({
          tools: [
            {
              functionDeclarations: [
                {
                  name: 'get_weather',
                  description: 'weather',
                  parameters: { type: 'OBJECT', properties: { city: { type: 'STRING' } }, required: ['city'] },
                },
                {
                  name: 'search_orders',
                  parameters: {
                    type: 'object',
                    additionalProperties: false,
                    properties: {
                      status: { type: ['string', 'null'], enum: ['open', 'closed'] },
                      limit: { type: 'integer', minimum: 1 },
                      tags: { type: 'array', items: { type: 'string' } },
                      since: { anyOf: [{ type: 'null' }, { type: 'string', format: 'date-time' }], description: 'dropped by the SDK' },
                      either: { anyOf: [{ type: 'number' }, { type: 'boolean' }, { type: 'null' }] },
                      odd: { type: 'float' },
                      multi: { type: ['string', 'number'] },
                    },
                    required: ['status'],
                  },
                  response: { type: 'object', properties: { count: { type: 'integer' } } },
                },
                {
                  name: 'with_json_schema',
                  parameters: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { q: { type: 'string' } } },
                  behavior: 'NON_BLOCKING',
                },
                { name: 'no_params' },
              ],
            },
            { googleSearch: {} },
            { codeExecution: {} },
            { urlContext: {}, notAToolField: true },
          ],
        }) as unknown as LiveConnectConfig,
    );
  });

  test('an empty tools list is sent as []', async () => {
    const setup = await assertSameAsSdk(() => ({ tools: [] }));
    assert.deepEqual(setup.tools, []);
  });

  test('systemInstruction as a string, a Part, parts, strings and a Content without role', async () => {
    const cases: LiveConnectConfig['systemInstruction'][] = [
      'You are a helpful assistant.',
      { text: 'Be brief.' },
      [{ text: 'One.' }, 'Two.'],
      ['a', 'b'],
      { parts: [{ text: 'No role given.' }] },
      { role: 'system', parts: [{ text: 'Kept as given.', unknownPartField: 1 } as never] },
    ];
    for (const systemInstruction of cases) await assertSameAsSdk(() => ({ systemInstruction }));
  });

  test('contextWindowCompression keeps int64 strings and numbers as given', async () => {
    await assertSameAsSdk(() => ({ contextWindowCompression: { slidingWindow: { targetTokens: '16000' }, triggerTokens: '25600' } }));
    await assertSameAsSdk(() => ({ contextWindowCompression: { slidingWindow: { targetTokens: 16000 as never }, triggerTokens: 25600 as never } }));
    await assertSameAsSdk(() => ({ contextWindowCompression: { slidingWindow: {} } }));
  });

  test('realtimeInputConfig', async () => {
    await assertSameAsSdk(
      () =>
        ({
          realtimeInputConfig: {
            automaticActivityDetection: {
              disabled: false,
              startOfSpeechSensitivity: 'START_SENSITIVITY_LOW',
              endOfSpeechSensitivity: 'END_SENSITIVITY_LOW',
              prefixPaddingMs: 20,
              silenceDurationMs: 100,
            },
            activityHandling: 'START_OF_ACTIVITY_INTERRUPTS',
            turnCoverage: 'TURN_INCLUDES_ONLY_ACTIVITY',
          },
        }) as LiveConnectConfig,
    );
  });

  test('safety settings, translation, labels', async () => {
    await assertSameAsSdk(
      () =>
        ({
          safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_ONLY_HIGH' }],
          translationConfig: { targetLanguageCode: 'de' },
          labels: { team: 'x' },
        }) as unknown as LiveConnectConfig,
    );
  });

  test('a resumption handle', async () => {
    const setup = await assertSameAsSdk(() => ({ responseModalities: ['TEXT' as never] }), MODEL, 'previous-handle-123');
    assert.deepEqual(setup.sessionResumption, { handle: 'previous-handle-123' });
  });

  test('a model that already has the models/ prefix', async () => {
    await assertSameAsSdk(() => undefined, `models/${MODEL}`);
  });

  test('the deprecated generationConfig, merged with the flattened fields', async (t) => {
    quietWarnings();
    t.after(() => mock.restoreAll());
    // Disjoint fields: merged.
    await assertSameAsSdk(() => ({ generationConfig: { temperature: 0.5, candidateCount: 1 }, responseModalities: ['TEXT' as never] }) as LiveConnectConfig);
    // Both have speechConfig: objects are merged key by key, the flattened one winning.
    await assertSameAsSdk(
      () =>
        ({
          generationConfig: { speechConfig: { languageCode: 'en-US', voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Kore' } } } },
          speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Puck' } } },
        }) as LiveConnectConfig,
    );
    // A zero, false or identical flattened value keeps the generationConfig one without complaint.
    await assertSameAsSdk(() => ({ generationConfig: { temperature: 0.5 }, temperature: 0 }));
    await assertSameAsSdk(() => ({ generationConfig: { temperature: 0.5 }, temperature: 0.5 }));
    // Arrays merge index by index.
    await assertSameAsSdk(() => ({ generationConfig: { responseModalities: ['AUDIO', 'TEXT'] }, responseModalities: ['TEXT'] }) as LiveConnectConfig);
    // Only the generationConfig.
    const setup = await assertSameAsSdk(() => ({ generationConfig: { maxOutputTokens: 10 } }));
    assert.deepEqual(setup.generationConfig, { maxOutputTokens: 10 });
  });

  test('the same scalar in generationConfig and on the config: both throw', async (t) => {
    quietWarnings();
    t.after(() => mock.restoreAll());
    await assertBothReject(() => ({ generationConfig: { temperature: 0.5 }, temperature: 0.7 }), /Cannot set value for an existing key. Key: temperature/);
  });

  test('configs the SDK refuses on the Gemini API are refused', async () => {
    await assertBothReject(
      () => ({ speechConfig: { multiSpeakerVoiceConfig: { speakerVoiceConfigs: [] } } }),
      /multiSpeakerVoiceConfig/,
    );
    await assertBothReject(() => ({ explicitVadSignal: true }), /explicitVadSignal/);
    await assertBothReject(() => ({ tools: [{ retrieval: {} }] }) as LiveConnectConfig, /retrieval/);
    await assertBothReject(() => ({ tools: [{ googleSearch: { excludeDomains: ['x.com'] } }] }) as LiveConnectConfig, /excludeDomains/);
    await assertBothReject(() => ({ safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', method: 'SEVERITY' }] }) as LiveConnectConfig, /method/);
    await assertBothReject(
      () => ({ tools: [{ functionDeclarations: [{ name: 'f', parameters: { type: 'string', anyOf: [] } as never }] }] }),
      /type and anyOf/,
    );
  });
});

describe('setupFromConfig: where relive-gemini/client differs from the SDK', () => {
  test('sessionResumption is always sent, and transparent is allowed', () => {
    assert.deepEqual(setupFromConfig(MODEL, undefined, {}).sessionResumption, {});
    assert.deepEqual(setupFromConfig(MODEL, undefined, { transparent: true }).sessionResumption, { transparent: true });
    assert.deepEqual(setupFromConfig(MODEL, undefined, { handle: 'h', transparent: true }).sessionResumption, { handle: 'h', transparent: true });
    assert.deepEqual(setupFromConfig(MODEL, undefined, { handle: 'h', transparent: false }).sessionResumption, { handle: 'h' });
  });

  test('config.sessionResumption is ignored: the resumption argument decides', () => {
    const setup = setupFromConfig(MODEL, { sessionResumption: { handle: 'stale', transparent: true } }, { handle: 'fresh' });
    assert.deepEqual(setup.sessionResumption, { handle: 'fresh' });
  });

  test('httpOptions and abortSignal are ignored rather than refused', () => {
    const setup = setupFromConfig(MODEL, { httpOptions: { timeout: 5 }, abortSignal: new AbortController().signal, temperature: 1 }, {});
    assert.deepEqual(setup, { model: `models/${MODEL}`, generationConfig: { temperature: 1 }, sessionResumption: {} });
  });

  test('a model containing a slash is kept as given', () => {
    assert.equal(setupFromConfig('tunedModels/mine', undefined, {}).model, 'tunedModels/mine');
    assert.equal(setupFromConfig('publishers/google/models/x', undefined, {}).model, 'publishers/google/models/x');
    assert.throws(() => setupFromConfig('', undefined, {}), /model is required/);
    assert.throws(() => setupFromConfig('../x', undefined, {}), /invalid model/);
  });

  test('callable and MCP tools are refused with a clear error', () => {
    const callable = { tool: async () => ({ functionDeclarations: [] }), callTool: async () => [] };
    assert.throws(() => setupFromConfig(MODEL, { tools: [callable] }, {}), /tools\[0\] is a callable or MCP tool/);
    const mcpTool = { name: 'x', inputSchema: { type: 'object' } };
    assert.throws(() => setupFromConfig(MODEL, { tools: [{ googleSearch: {} }, mcpTool as never] }, {}), /tools\[1\] is a callable or MCP tool/);
  });

  test('the caller’s config is not mutated (the SDK writes into it)', () => {
    const make = (): LiveConnectConfig => ({
      generationConfig: { speechConfig: { languageCode: 'en-US' } },
      speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Puck' } } },
      responseModalities: ['AUDIO' as never],
      tools: [{ functionDeclarations: [{ name: 'f', parameters: { type: 'object' as never, properties: { a: { type: 'string' as never } } } }] }],
    });
    const config = make();
    const setup = setupFromConfig(MODEL, config, {});
    assert.deepEqual(config, make());
    assert.deepEqual(setup.generationConfig, {
      speechConfig: { languageCode: 'en-US', voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Puck' } } },
      responseModalities: ['AUDIO'],
    });
    assert.deepEqual(setup.tools, [{ functionDeclarations: [{ name: 'f', parameters: { type: 'OBJECT', properties: { a: { type: 'STRING' } } } }] }]);
  });

  test('undefined fields are omitted', () => {
    const setup = setupFromConfig(MODEL, { temperature: undefined, systemInstruction: undefined, tools: undefined, generationConfig: { topK: undefined } }, {});
    assert.deepEqual(setup, { model: `models/${MODEL}`, generationConfig: {}, sessionResumption: {} });
    assert.deepEqual(Object.keys(setup.generationConfig as object), []);
  });
});
