/**
 * What the server does with every kind of bad client input (PROTOCOL.md §1, §2, §7.2, §9), seen
 * from raw `ws` clients on a real loopback server. Each test is one rule: the exact close code and
 * reason the client sees, and that a session opened beforehand on the same server (the witness)
 * is neither closed nor sent anything, and still answers a turn afterwards.
 *
 * Close reasons are written out literally, not imported from src/: they are the contract.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertClosedWith, assertServerHealthy, harness, textTurn, type Harness } from '../helpers/witness-harness.js';
import { livePath, MODEL, RawClient, TEXT_SETUP, upgradeStatus, type CloseInfo, type OpenOptions } from '../helpers/raw-client.js';

const INVALID: CloseInfo = { code: 1007, reason: 'Request contains an invalid argument.' };
const NO_VOICES: CloseInfo = { code: 1007, reason: 'Cannot extract voices from a non-audio request.' };
const BAD_KEY: CloseInfo = { code: 1007, reason: 'API key not valid. Please pass a valid API key.' };

const SETUP_JSON = JSON.stringify(TEXT_SETUP);

/** Opens a client that misbehaves before setup; it must be closed with `expected` and sent nothing at all. */
async function beforeSetup(h: Harness, misbehave: (c: RawClient) => void, expected: CloseInfo, options: OpenOptions = {}): Promise<void> {
  const c = await RawClient.open(h.srv.url, options);
  try {
    misbehave(c);
    await assertClosedWith(c, expected);
    assert.deepEqual(c.messages, [], 'the server sent something to a client that never completed setup');
  } finally {
    await c.dispose();
  }
  await assertServerHealthy(h);
}

/** Opens a client that completes setup, then misbehaves; it must be closed with `expected`. */
async function afterSetup(h: Harness, misbehave: (c: RawClient) => void, expected: CloseInfo, setup: object = TEXT_SETUP): Promise<void> {
  const c = await RawClient.connect(h.srv.url, setup);
  try {
    misbehave(c);
    await assertClosedWith(c, expected);
  } finally {
    await c.dispose();
  }
  await assertServerHealthy(h);
}

describe('bad frames before setup', () => {
  const h = harness();

  test('a non-JSON text frame → 1007 "Request contains an invalid argument."', () =>
    beforeSetup(h, (c) => c.sendRaw('hello, this is not JSON'), INVALID));

  test('truncated JSON → 1007', () => beforeSetup(h, (c) => c.sendRaw(SETUP_JSON.slice(0, 20)), INVALID));

  test('an empty text frame → 1007', () => beforeSetup(h, (c) => c.sendRaw(''), INVALID));

  test('a binary frame of invalid UTF-8 bytes → 1007', () =>
    beforeSetup(h, (c) => c.sendRaw(Buffer.from([0x7b, 0xff, 0xfe, 0xc3, 0x28, 0x80, 0x7d]), true), INVALID));

  test('a text frame carrying invalid UTF-8 bytes → 1007 with the reason text', () =>
    beforeSetup(h, (c) => c.sendRaw(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), false), INVALID));

  test('a JSON array (even one wrapping a setup) → 1007', () => beforeSetup(h, (c) => c.sendRaw(`[${SETUP_JSON}]`), INVALID));

  test('a JSON number → 1007', () => beforeSetup(h, (c) => c.sendRaw('42'), INVALID));

  test('a JSON string → 1007', () => beforeSetup(h, (c) => c.sendRaw('"setup"'), INVALID));

  test('JSON null → 1007', () => beforeSetup(h, (c) => c.sendRaw('null'), INVALID));

  test('an empty object {} → 1007', () => beforeSetup(h, (c) => c.send({}), INVALID));

  test('an unknown message kind {"foo":{}} → 1007', () => beforeSetup(h, (c) => c.send({ foo: {} }), INVALID));

  test('clientContent as the first message → 1007', () => beforeSetup(h, (c) => c.send(textTurn('hi')), INVALID));

  test('realtimeInput as the first message → 1007', () => beforeSetup(h, (c) => c.send({ realtimeInput: { text: 'hi' } }), INVALID));

  test('toolResponse as the first message → 1007', () =>
    beforeSetup(h, (c) => c.send({ toolResponse: { functionResponses: [{ id: 'x', name: 'f', response: {} }] } }), INVALID));

  test('setup and clientContent in one frame → 1007', () =>
    beforeSetup(h, (c) => c.send({ ...TEXT_SETUP, ...textTurn('hi') }), INVALID));

  test("Mastra's {\"type\":\"session_resume\"} as the first message → 1007 (fail fast, no timeout)", () =>
    beforeSetup(h, (c) => c.send({ type: 'session_resume', data: { handle: 'abc' } }), INVALID));

  test('{"type":"session.update"} as the first message → 1007', () =>
    beforeSetup(h, (c) => c.send({ type: 'session.update', session: { instructions: 'x' } }), INVALID));
});

describe('bad setup', () => {
  const h = harness();

  test('a setup that is not an object {"setup":5} → 1007', () => beforeSetup(h, (c) => c.send({ setup: 5 }), INVALID));

  test('a model of the wrong type {"setup":{"model":5}} → 1007', () => beforeSetup(h, (c) => c.send({ setup: { model: 5 } }), INVALID));

  test('a missing model {"setup":{}} → 1007', () => beforeSetup(h, (c) => c.send({ setup: {} }), INVALID));

  test('an empty model name → 1007', () => beforeSetup(h, (c) => c.send({ setup: { model: '' } }), INVALID));

  test('generationConfig.temperature as a string → 1007', () =>
    beforeSetup(h, (c) => c.send({ setup: { model: MODEL, generationConfig: { temperature: 'hot' } } }), INVALID));

  test('an unknown response modality name → 1007', () =>
    beforeSetup(h, (c) => c.send({ setup: { model: MODEL, generationConfig: { responseModalities: ['SMELL'] } } }), INVALID));

  test('both TEXT and AUDIO responseModalities → 1007', () =>
    beforeSetup(h, (c) => c.send({ setup: { model: MODEL, generationConfig: { responseModalities: ['TEXT', 'AUDIO'] } } }), INVALID));

  test('speechConfig with TEXT modality → 1007 "Cannot extract voices from a non-audio request."', () =>
    beforeSetup(
      h,
      (c) =>
        c.send({
          setup: {
            model: MODEL,
            generationConfig: { responseModalities: ['TEXT'], speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Kore' } } } },
          },
        }),
      NO_VOICES,
    ));
});

describe('bad messages after setup', () => {
  const h = harness();

  test('a second setup → 1007', () => afterSetup(h, (c) => c.send(TEXT_SETUP), INVALID));

  test('a second setup sent right behind the first (before setupComplete is read) → setupComplete, then 1007', async () => {
    const c = await RawClient.open(h.srv.url);
    try {
      c.sendRaw(SETUP_JSON);
      c.sendRaw(SETUP_JSON);
      await assertClosedWith(c, INVALID);
      assert.equal(c.messages.length, 1);
      assert.ok(c.messages[0]!.setupComplete);
    } finally {
      await c.dispose();
    }
    await assertServerHealthy(h);
  });

  test('an empty object {} → 1007', () => afterSetup(h, (c) => c.send({}), INVALID));

  test('frames right behind a bad frame are ignored: one close, no reply, nothing processed', async () => {
    const c = await RawClient.connect(h.srv.url);
    const id = c.messages[0]!.setupComplete.sessionId as string;
    const session = h.srv.server.sessions.watch(id)!;
    c.sendRaw('garbage');
    c.send(textTurn('must not be answered'));
    c.sendRaw('more garbage');
    c.send({});
    await assertClosedWith(c, INVALID);
    assert.equal(c.messages.length, 1, 'nothing but setupComplete');
    assert.deepEqual(session().context, []);
    await c.dispose();
    await assertServerHealthy(h);
  });

  test('an unknown message kind {"foo":{}} → 1007', () => afterSetup(h, (c) => c.send({ foo: {} }), INVALID));

  test('clientContent and realtimeInput in one frame → 1007', () =>
    afterSetup(h, (c) => c.send({ ...textTurn('hi'), realtimeInput: { text: 'hi' } }), INVALID));

  test('clientContent spelled twice (camelCase and snake_case) in one frame → 1007', () =>
    afterSetup(h, (c) => c.sendRaw('{"clientContent":{"turnComplete":true},"client_content":{"turnComplete":true}}'), INVALID));

  test('a non-JSON text frame → 1007', () => afterSetup(h, (c) => c.sendRaw('not json'), INVALID));

  test('a binary frame of invalid UTF-8 bytes → 1007', () => afterSetup(h, (c) => c.sendRaw(Buffer.from([0xc0, 0xaf, 0xff]), true), INVALID));

  test('a JSON array → 1007', () => afterSetup(h, (c) => c.sendRaw(`[${JSON.stringify(textTurn('hi'))}]`), INVALID));

  test('clientContent.turns a number → 1007', () => afterSetup(h, (c) => c.send({ clientContent: { turns: 5, turnComplete: true } }), INVALID));

  test('clientContent.turnComplete a string → 1007', () => afterSetup(h, (c) => c.send({ clientContent: { turnComplete: 'yes' } }), INVALID));

  test('realtimeInput.audio.data that is not base64 → 1007', () =>
    afterSetup(h, (c) => c.send({ realtimeInput: { audio: { data: 'this is *not* base64!', mimeType: 'audio/pcm;rate=16000' } } }), INVALID));

  test('realtimeInput.text a number → 1007', () => afterSetup(h, (c) => c.send({ realtimeInput: { text: 42 } }), INVALID));

  test('toolResponse with a response that is not an object → 1007', () =>
    afterSetup(h, (c) => c.send({ toolResponse: { functionResponses: [{ id: 'a', name: 'f', response: 'done' }] } }), INVALID));

  test('activityStart while automatic activity detection is on → 1007', () =>
    afterSetup(h, (c) => c.send({ realtimeInput: { activityStart: {} } }), INVALID));

  test('activityEnd while automatic activity detection is on → 1007', () =>
    afterSetup(h, (c) => c.send({ realtimeInput: { activityEnd: {} } }), INVALID));
});

describe('inputs that are accepted (loose mode, the default)', () => {
  const h = harness();

  test('activityStart / activityEnd are accepted when automaticActivityDetection.disabled is true, and end the turn', async () => {
    const c = await RawClient.connect(h.srv.url, {
      setup: { ...TEXT_SETUP.setup, realtimeInputConfig: { automaticActivityDetection: { disabled: true } } },
    });
    c.send({ realtimeInput: { activityStart: {} } });
    c.send({ realtimeInput: { text: 'manual turn' } });
    c.send({ realtimeInput: { activityEnd: {} } });
    await c.waitFor((m) => m.serverContent?.turnComplete === true);
    assert.match(c.textFrom(), /You said: manual turn/);
    assert.equal(c.closed, undefined);
    await c.dispose();
    await h.witness.assertUndisturbed();
  });

  test('{"type":"session.update"} after setup is ignored and the session still answers a later turn', async () => {
    const c = await RawClient.connect(h.srv.url);
    c.send({ type: 'session.update', session: { instructions: 'be brief' } });
    c.send({ type: 'session_resume', data: { handle: 'abc' } });
    assert.match(await c.turn('still there?'), /You said: still there\?/);
    assert.equal(c.closed, undefined);
    await c.dispose();
    await h.witness.assertUndisturbed();
  });

  test('clientContent sent right behind setup (before setupComplete arrives) is queued and answered', async () => {
    const c = await RawClient.open(h.srv.url);
    c.sendRaw(SETUP_JSON);
    c.send(textTurn('queued turn'));
    await c.waitFor((m) => m.serverContent?.turnComplete === true);
    assert.ok(c.messages[0]!.setupComplete, 'setupComplete comes first');
    assert.match(c.textFrom(), /You said: queued turn/);
    await c.dispose();
  });

  test('a setup in a binary frame (valid UTF-8 JSON) is accepted', async () => {
    const c = await RawClient.open(h.srv.url);
    c.sendRaw(Buffer.from(SETUP_JSON, 'utf8'), true);
    await c.waitFor((m) => m.setupComplete !== undefined);
    c.sendRaw(Buffer.from(JSON.stringify(textTurn('binary turn')), 'utf8'), true);
    await c.waitFor((m) => m.serverContent?.turnComplete === true);
    assert.match(c.textFrom(), /You said: binary turn/);
    await c.dispose();
  });

  test('an unknown field inside setup (generation_config.foo) is accepted in loose mode', async () => {
    const c = await RawClient.connect(h.srv.url, { setup: { model: MODEL, generation_config: { response_modalities: ['TEXT'], foo: 1 } } });
    assert.match(await c.turn('loose'), /You said: loose/);
    await c.dispose();
  });

  test('snake_case names and a scalar response_modalities: "TEXT" are accepted, and the replies are TEXT', async () => {
    const c = await RawClient.connect(h.srv.url, {
      setup: {
        model: MODEL,
        generation_config: { response_modalities: 'TEXT', temperature: 0.5 },
        system_instruction: { parts: [{ text: 'be nice' }] },
        realtime_input_config: { automatic_activity_detection: { disabled: false } },
      },
    });
    const from = c.messages.length;
    c.send({ client_content: { turns: [{ role: 'user', parts: [{ text: 'snake' }] }], turn_complete: true } });
    await c.waitFor((m) => m.serverContent?.turnComplete === true, 3000, from);
    assert.match(c.textFrom(from), /You said: snake/);
    const audio = c.messages.some((m) => (m.serverContent?.modelTurn?.parts ?? []).some((p: { inlineData?: unknown }) => p.inlineData));
    assert.equal(audio, false, 'a scalar "TEXT" must select TEXT replies, not AUDIO');
    await c.dispose();
  });

  test('an unknown top-level field next to a known message kind is ignored in loose mode', async () => {
    const c = await RawClient.connect(h.srv.url);
    const from = c.messages.length;
    c.send({ ...textTurn('extra field'), foo: 1 });
    await c.waitFor((m) => m.serverContent?.turnComplete === true, 3000, from);
    assert.match(c.textFrom(from), /You said: extra field/);
    await c.dispose();
    await h.witness.assertUndisturbed();
  });
});

describe('server frames', () => {
  const h = harness();

  test('nothing at all is sent before the client sends setup', async () => {
    const c = await RawClient.open(h.srv.url);
    c.sendRaw(SETUP_JSON);
    await c.waitFor((m) => m.setupComplete !== undefined);
    // The marker: the answer to setup is the first frame of all, so nothing came before it.
    assert.equal(c.frames.length, 1);
    assert.deepEqual(Object.keys(c.messages[0]!), ['setupComplete']);
    await c.dispose();
  });

  test('server frames are BINARY, pretty-printed JSON with a 2-space indent and a trailing newline; the first is {"setupComplete":{…}}', async () => {
    const c = await RawClient.connect(h.srv.url);
    await c.turn('Hello there, how are you doing today?');
    assert.ok(c.frames.length >= 3, 'setupComplete, content, turnComplete');
    for (const f of c.frames) {
      assert.equal(f.isBinary, true, 'server frames must be binary (opcode 2)');
      const text = f.data.toString('utf8');
      assert.equal(text, `${JSON.stringify(JSON.parse(text), null, 2)}\n`);
      assert.equal(Object.keys(JSON.parse(text)).filter((k) => k !== 'usageMetadata').length, 1, 'one message kind per frame');
    }
    const first = c.messages[0]!;
    assert.deepEqual(Object.keys(first), ['setupComplete']);
    assert.equal(typeof first.setupComplete, 'object');
    assert.notEqual(first.setupComplete, null);
    await c.dispose();
  });
});

describe('API keys (apiKeys: ["good"])', () => {
  const h = harness({ apiKeys: ['good'] }, { query: 'key=good' });

  test('a wrong key is accepted at upgrade and closed after setup with 1007 "API key not valid. Please pass a valid API key."', () =>
    beforeSetup(h, (c) => c.sendRaw(SETUP_JSON), BAD_KEY, { query: 'key=bad' }));

  test('a missing key is accepted at upgrade and closed after setup with 1007 "API key not valid…"', () =>
    beforeSetup(h, (c) => c.sendRaw(SETUP_JSON), BAD_KEY));

  test('the SDK\'s literal ?key=undefined is refused like any wrong key', () =>
    beforeSetup(h, (c) => c.sendRaw(SETUP_JSON), BAD_KEY, { query: 'key=undefined' }));

  test('a wrong key in the x-goog-api-key header is refused after setup', () =>
    beforeSetup(h, (c) => c.sendRaw(SETUP_JSON), BAD_KEY, { headers: { 'x-goog-api-key': 'bad' } }));

  test('a wrong key in Authorization: Token … is refused after setup', () =>
    beforeSetup(h, (c) => c.sendRaw(SETUP_JSON), BAD_KEY, { headers: { authorization: 'Token bad' } }));

  test('a client with a wrong key that never sends setup is not closed for the key before setup', async () => {
    const c = await RawClient.open(h.srv.url, { query: 'key=bad' });
    assert.equal(await c.staysOpen(100), true);
    await c.dispose();
  });

  const good: [string, OpenOptions][] = [
    ['?key=', { query: 'key=good' }],
    ['the x-goog-api-key header', { headers: { 'x-goog-api-key': 'good' } }],
    ['Authorization: Token …', { headers: { authorization: 'Token good' } }],
    ['?access_token= on the …BidiGenerateContentConstrained path', { path: livePath('v1alpha', 'BidiGenerateContentConstrained'), query: 'access_token=good' }],
  ];
  for (const [how, options] of good) {
    test(`the right key works via ${how}`, async () => {
      const c = await RawClient.connect(h.srv.url, TEXT_SETUP, options);
      assert.match(await c.turn('authorized'), /You said: authorized/);
      await c.dispose();
      await h.witness.assertUndisturbed();
    });
  }
});

describe('routing', () => {
  const h = harness();

  const accepted = [
    '//ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent',
    '/prefix//ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContent',
    '/prefix/ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContent',
    '/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent',
    '/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContentConstrained',
  ];
  for (const path of accepted) {
    test(`${path} is accepted`, async () => {
      const c = await RawClient.connect(h.srv.url, TEXT_SETUP, { path, query: 'key=k' });
      assert.match(await c.turn('routed'), /You said: routed/);
      await c.dispose();
    });
  }

  const refused = [
    '/',
    '/ws',
    '/ws/google.ai.generativelanguage.v1beta.GenerativeService.StreamGenerateContent',
    '/ws/google.ai.generativelanguage.beta.GenerativeService.BidiGenerateContent',
    '/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent/extra',
    '/relive/v1/sessions',
  ];
  for (const path of refused) {
    test(`any other path gets HTTP 404 on upgrade: ${path}`, async () => {
      assert.equal(await upgradeStatus(h.srv.url, { path }), 404);
      await h.witness.assertUndisturbed();
    });
  }
});

describe('strict mode (strict: true)', () => {
  const h = harness({ strict: true });

  test(`an unknown field inside setup → 1007 'Invalid JSON payload received. Unknown name "foo" at 'setup.generation_config': Cannot find field.'`, () =>
    beforeSetup(h, (c) => c.send({ setup: { model: MODEL, generation_config: { response_modalities: ['TEXT'], foo: 1 } } }), {
      code: 1007,
      reason: `Invalid JSON payload received. Unknown name "foo" at 'setup.generation_config': Cannot find field.`,
    }));

  test('the same unknown field under camelCase generationConfig reports the proto path setup.generation_config', () =>
    beforeSetup(h, (c) => c.send({ setup: { model: MODEL, generationConfig: { responseModalities: ['TEXT'], foo: 1 } } }), {
      code: 1007,
      reason: `Invalid JSON payload received. Unknown name "foo" at 'setup.generation_config': Cannot find field.`,
    }));

  test('an unknown field directly in setup is reported at \'setup\'', () =>
    beforeSetup(h, (c) => c.send({ setup: { ...TEXT_SETUP.setup, proactivityy: {} } }), {
      code: 1007,
      reason: `Invalid JSON payload received. Unknown name "proactivityy" at 'setup': Cannot find field.`,
    }));

  test('an over-long unknown-field reason is truncated to 123 bytes on a character boundary', async () => {
    const name = `f${'é'.repeat(80)}`;
    const c = await RawClient.open(h.srv.url);
    c.send({ setup: { ...TEXT_SETUP.setup, [name]: 1 } });
    const got = await c.waitClose();
    await c.dispose();
    const full = `Invalid JSON payload received. Unknown name "${name}" at 'setup': Cannot find field.`;
    assert.equal(got.code, 1007);
    assert.ok(Buffer.byteLength(got.reason, 'utf8') <= 123);
    assert.ok(Buffer.byteLength(got.reason, 'utf8') >= 122, 'truncated, not dropped');
    assert.ok(full.startsWith(got.reason), 'a prefix of the full reason');
    await assertServerHealthy(h);
  });

  test('an unknown model → 1008 "models/<m> is not found for API version <v>, …", truncated to 123 bytes', async () => {
    const full =
      'models/no-such-model is not found for API version v1beta, or is not supported for bidiGenerateContent. Call ListModels to see the list of available models and their supported methods.';
    await beforeSetup(h, (c) => c.send({ setup: { model: 'no-such-model' } }), { code: 1008, reason: full.slice(0, 123) });
  });

  // Google names the index of every repeated field on the path, e.g. 'tools[0].function_declarations[0].parameters…'
  // (google-gemini/gemini-cli#13972, mnfst/llm-gateway#1858).
  test("an unknown field inside a repeated message names the indices: at 'setup.tools[0].function_declarations[0]'", () =>
    beforeSetup(h, (c) => c.send({ setup: { ...TEXT_SETUP.setup, tools: [{ functionDeclarations: [{ name: 'f', foo: 1 }] }] } }), {
      code: 1007,
      reason: `Invalid JSON payload received. Unknown name "foo" at 'setup.tools[0].function_declarations[0]': Cannot find field.`,
    }));

  // A field unknown at the root has no " at '…'" clause in Google's text (decolua/9router#1876: 'Unknown name "thinking": Cannot find field.').
  test('an unknown top-level field next to clientContent → 1007 \'Invalid JSON payload received. Unknown name "foo": Cannot find field.\'', () =>
    afterSetup(h, (c) => c.send({ ...textTurn('hi'), foo: 1 }), {
      code: 1007,
      reason: 'Invalid JSON payload received. Unknown name "foo": Cannot find field.',
    }));

  test("an unknown field inside clientContent is reported at 'client_content'", () =>
    afterSetup(h, (c) => c.send({ clientContent: { turnComplete: true, bar: 1 } }), {
      code: 1007,
      reason: `Invalid JSON payload received. Unknown name "bar" at 'client_content': Cannot find field.`,
    }));

  test('a scalar response_modalities: "TEXT" is refused in strict mode → 1007', () =>
    beforeSetup(h, (c) => c.send({ setup: { model: MODEL, generation_config: { response_modalities: 'TEXT' } } }), INVALID));

  test('{"type":"session.update"} after setup → 1007 in strict mode', () =>
    afterSetup(h, (c) => c.send({ type: 'session.update', session: {} }), INVALID));

  test('a well-formed setup with a known model is accepted in strict mode', async () => {
    const c = await RawClient.connect(h.srv.url);
    assert.match(await c.turn('strict'), /You said: strict/);
    await c.dispose();
  });
});
