/**
 * The control API's model endpoints: `GET /relive/v1/models` (the running server's catalogue) and
 * `POST /relive/v1/setup:lint`, whose verdict is checked against what a real connection to the
 * same server gets for the same setup: the close code and reason, or setupComplete.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ModelProfile } from '../../src/session/models.js';
import { BUILTIN_PROFILES, DEFAULT_PROFILE } from '../../src/session/model-table.js';
import { RawClient, livePath } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

type Lint = { ok: true; model: string; profile: string } | { ok: false; model: string; profile: string; close: { code: number; reason: string }; detail: string };

async function lint(url: string, body: unknown, query = ''): Promise<{ status: number; body: Lint & { error?: string } }> {
  const res = await fetch(`${url}/relive/v1/setup:lint${query}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Lint & { error?: string } };
}

/** What a connection with this setup gets: setupComplete, or the close before it. */
async function connect(url: string, setup: object, apiVersion = 'v1beta'): Promise<'open' | { code: number; reason: string }> {
  const client = await RawClient.open(url, { path: livePath(apiVersion) });
  client.send(setup);
  // A close before setupComplete rejects the wait for it: the close is the answer then.
  const opened = await client.waitFor((m) => m.setupComplete !== undefined).then(() => true, () => false);
  const seen = opened ? ('open' as const) : await client.waitClose();
  await client.dispose();
  return seen;
}

const OWN_PROFILE = { name: 'acme-live-1', extends: 'gemini-3.8-live', models: ['acme-live-1*'], usageMetadata: false };

describe('control API: models and setup:lint', () => {
  let server: TestServer;
  let strict: TestServer;
  let guarded: TestServer;
  before(async () => {
    server = await startServer({ keepaliveIntervalMs: 0, modelProfiles: [OWN_PROFILE] });
    strict = await startServer({ keepaliveIntervalMs: 0, strict: true });
    guarded = await startServer({ keepaliveIntervalMs: 0, adminToken: 'sesame' });
  });
  after(async () => {
    await Promise.all([server.close(), strict.close(), guarded.close()]);
  });

  test('GET /relive/v1/models: the server\'s own profiles first, then the built-in ones, the default last; POST is 405', async () => {
    const res = await fetch(`${server.url}/relive/v1/models`);
    assert.equal(res.status, 200);
    const { profiles } = (await res.json()) as { profiles: ModelProfile[] };
    assert.deepEqual(profiles.map((p) => p.name), ['acme-live-1', ...BUILTIN_PROFILES.map((p) => p.name), DEFAULT_PROFILE.name]);
    const acme = profiles[0]!;
    assert.deepEqual([acme.models, acme.usageMetadata, acme.interactionStatus, acme.contextWindowTokens], [['acme-live-1*'], false, true, 131_072]);
    assert.equal((await fetch(`${server.url}/relive/v1/models`, { method: 'POST' })).status, 405);
  });

  test('a refused setup: 200 {ok:false, close, detail}; a taken one: {ok:true, model, profile}; either form of the body', async () => {
    const text = await lint(server.url, { setup: { model: 'gemini-3.8-live', generationConfig: { responseModalities: ['TEXT'] } } });
    assert.equal(text.status, 200);
    assert.deepEqual(text.body, {
      ok: false,
      model: 'gemini-3.8-live',
      profile: 'gemini-3.8-live',
      close: { code: 1007, reason: 'Request contains an invalid argument.' },
      detail: 'gemini-3.8-live: responseModalities TEXT: the model answers only AUDIO',
    });
    const bare = await lint(server.url, { model: 'acme-live-1-preview', generation_config: { response_modalities: ['AUDIO'] } });
    assert.deepEqual(bare, { status: 200, body: { ok: true, model: 'acme-live-1-preview', profile: 'acme-live-1' } });
  });

  test('?strict= overrides the server\'s mode either way; ?apiVersion= is the client\'s version', async () => {
    const extra = { setup: { model: 'gemini-3.8-live', generationConfig: { newFeature: 1 } } };
    assert.equal((await lint(server.url, extra)).body.ok, true);
    const strictLint = await lint(server.url, extra, '?strict=1');
    assert.equal(strictLint.body.ok, false);
    assert.match(strictLint.body.ok === false ? strictLint.body.close.reason : '', /Unknown name "newFeature" at 'setup\.generation_config'/);
    assert.equal((await lint(strict.url, extra)).body.ok, false);
    assert.equal((await lint(strict.url, extra, '?strict=0')).body.ok, true);
    const proactive = { model: 'gemini-2.5-flash-native-audio-preview-12-2025', proactivity: { proactiveAudio: true } };
    assert.equal((await lint(strict.url, proactive)).body.ok, false);
    assert.equal((await lint(strict.url, proactive, '?apiVersion=v1alpha')).body.ok, true);
  });

  test('400 for what is not a setup or a bad query; 405 for GET; 401 without the admin token', async () => {
    const bad: [unknown, RegExp][] = [
      ['{"setup": ', /body is not JSON/],
      ['', /not a setup: not a JSON object/],
      [[1, 2], /not a setup: not a JSON object/],
      [{ realtimeInput: {} }, /not a setup: a realtimeInput message, not a setup/],
      [{ setup: { generationConfig: {} } }, /not a setup: the setup names no model/],
    ];
    for (const [body, error] of bad) {
      const res = await lint(server.url, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(res.body.error ?? '', error);
    }
    assert.equal((await lint(server.url, { model: 'gemini-3.8-live' }, '?strict=maybe')).status, 400);
    assert.equal((await lint(server.url, { model: 'gemini-3.8-live' }, '?apiVersion=v2')).status, 400);
    assert.equal((await fetch(`${server.url}/relive/v1/setup:lint`)).status, 405);
    assert.equal((await lint(guarded.url, { model: 'gemini-3.8-live' })).status, 401);
    const authorized = await fetch(`${guarded.url}/relive/v1/setup:lint`, { method: 'POST', headers: { authorization: 'Bearer sesame' }, body: JSON.stringify({ model: 'gemini-3.8-live' }) });
    assert.equal(authorized.status, 200);
    assert.equal((await fetch(`${guarded.url}/relive/v1/models`)).status, 401);
  });

  test('the verdict is what a connection to the same server gets, close code and reason included', async () => {
    const setups: { setup: object; apiVersion?: string }[] = [
      { setup: { setup: { model: 'gemini-3.8-live', generationConfig: { responseModalities: ['TEXT'] } } } },
      { setup: { setup: { model: 'gemini-3.8-live', generationConfig: { responseModalities: ['AUDIO'] } } } },
      { setup: { setup: { model: 'gemini-3.8-live', generationConfig: { enableAffectiveDialog: true } } } },
      { setup: { setup: { model: 'gemini-3.8-live', proactivity: { proactiveAudio: false } } } },
      { setup: { setup: { model: 'gemini-3.8-live-extended-thinking' } } },
      { setup: { setup: { model: 'gemini-live-2.5-flash-preview', generationConfig: { responseModalities: ['TEXT'], speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Puck' } } } } } } },
      { setup: { setup: { model: 'gemini-live-2.5-flash-preview', generationConfig: { responseModalities: ['TEXT', 'AUDIO'] } } } },
      { setup: { setup: { model: 'gemini-9-live', unknownField: 1 } } },
      // Strict: 1008 with a reason longer than a close frame takes, cut as the connection cuts it.
      { setup: { setup: { model: 'gemini-9-live' } } },
      { setup: { setup: { model: 'gemini-2.5-flash-native-audio-preview-12-2025', proactivity: { proactiveAudio: true } } }, apiVersion: 'v1alpha' },
      { setup: { setup: { model: 'gemini-2.5-flash-native-audio-preview-12-2025', proactivity: { proactiveAudio: true } } } },
    ];
    for (const target of [server, strict]) {
      for (const { setup, apiVersion } of setups) {
        const verdict = (await lint(target.url, setup, apiVersion ? `?apiVersion=${apiVersion}` : '')).body;
        const seen = await connect(target.url, setup, apiVersion);
        const what = `${target === strict ? 'strict' : 'loose'} ${apiVersion ?? ''} ${JSON.stringify(setup)}`;
        assert.deepEqual(verdict.ok ? 'open' : verdict.close, seen, what);
      }
    }
  });
});
