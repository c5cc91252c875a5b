/**
 * What each model's profile refuses in a setup (issue #16), with the close code and reason the
 * real service gives, through the official SDK: TEXT on native-audio models, thinkingConfig,
 * proactiveAudio:false and enableAffectiveDialog on 3.8, extended thinking's thinkingConfig rule,
 * and, in strict mode only, fields the model's API does not know. A profile of the user's own
 * flips the affective-dialog choice.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Modality, ThinkingLevel, type LiveConnectConfig } from '@google/genai';
import { Inbox, sdk, startServer, type TestServer } from '../helpers/server.js';
import { BUILTIN_PROFILES } from '../../src/session/model-table.js';

const INVALID = { code: 1007, reason: 'Request contains an invalid argument.' };

/**
 * Connects with the SDK and runs one turn: 'open' when the setup was taken, else the close. The
 * SDK's connect rejects when the server closes before setupComplete, naming code and reason.
 */
async function outcome(server: TestServer, model: string, config: LiveConnectConfig): Promise<{ code: number; reason: string } | 'open'> {
  const inbox = new Inbox();
  let session;
  try {
    session = await sdk(server.url).live.connect({ model, config, callbacks: inbox.callbacks });
  } catch (err) {
    const m = /closed before setup completed \(code (\d+)\): (.*)$/s.exec(String((err as Error).message));
    if (!m) throw err;
    return { code: Number(m[1]), reason: m[2]! };
  }
  // Realtime text: every model takes it (3.1 takes clientContent only as initial history).
  session.sendRealtimeInput({ text: 'hello there' });
  await inbox.turnComplete();
  session.close();
  await inbox.waitClose();
  return 'open';
}

describe('setup refusals by model profile', () => {
  let server: TestServer;
  let strict: TestServer;
  let flipped: TestServer;
  before(async () => {
    server = await startServer({ keepaliveIntervalMs: 0 });
    strict = await startServer({ keepaliveIntervalMs: 0, strict: true });
    const v38 = BUILTIN_PROFILES.find((p) => p.name === 'gemini-3.8-live')!;
    flipped = await startServer({
      keepaliveIntervalMs: 0,
      // The Agent Platform reading: 3.8 keeps affective dialog.
      modelProfiles: [{ name: 'gemini-3.8-live', refusedFields: v38.refusedFields.filter((r) => r.field !== 'generationConfig.enableAffectiveDialog') }],
    });
  });
  after(async () => {
    await server.close();
    await strict.close();
    await flipped.close();
  });

  test('TEXT on native-audio models (2.5 native audio, 3.8, 3.1) is 1007; AUDIO goes', async () => {
    for (const model of ['gemini-2.5-flash-native-audio-preview-12-2025', 'gemini-3.8-live', 'gemini-3.1-flash-live-preview']) {
      assert.deepEqual(await outcome(server, model, { responseModalities: [Modality.TEXT] }), INVALID, model);
      assert.equal(await outcome(server, model, { responseModalities: [Modality.AUDIO] }), 'open', model);
    }
    assert.equal(await outcome(server, 'gemini-live-2.5-flash-preview', { responseModalities: [Modality.TEXT] }), 'open');
  });

  test('3.8: thinkingConfig and proactiveAudio:false are 1007, enableAffectiveDialog an unknown field', async () => {
    const audio = { responseModalities: [Modality.AUDIO] };
    assert.deepEqual(await outcome(server, 'gemini-3.8-live', { ...audio, thinkingConfig: { thinkingBudget: 512 } }), INVALID);
    assert.deepEqual(await outcome(server, 'gemini-3.8-live', { ...audio, proactivity: { proactiveAudio: false } }), INVALID);
    assert.equal(await outcome(server, 'gemini-3.8-live', { ...audio, proactivity: { proactiveAudio: true } }), 'open');
    assert.deepEqual(await outcome(server, 'gemini-3.8-live', { ...audio, enableAffectiveDialog: true }), {
      code: 1007,
      reason: `Invalid JSON payload received. Unknown name "enableAffectiveDialog" at 'setup.generation_config': Cannot find field.`,
    });
  });

  test('a profile of your own flips the doc-set choice: enableAffectiveDialog accepted on 3.8', async () => {
    assert.equal(await outcome(flipped, 'gemini-3.8-live', { responseModalities: [Modality.AUDIO], enableAffectiveDialog: true }), 'open');
    // The rest of the built-in profile stands.
    assert.deepEqual(await outcome(flipped, 'gemini-3.8-live', { responseModalities: [Modality.AUDIO], thinkingConfig: { thinkingBudget: 1 } }), INVALID);
  });

  test('3.8 extended thinking: exactly one of thinkingLevel and thinkingBudget, MINIMAL refused', async () => {
    const model = 'gemini-3.8-live-extended-thinking';
    const audio = { responseModalities: [Modality.AUDIO] };
    assert.deepEqual(await outcome(server, model, audio), INVALID, 'no thinkingConfig');
    assert.deepEqual(await outcome(server, model, { ...audio, thinkingConfig: { thinkingLevel: ThinkingLevel.MINIMAL } }), INVALID, 'MINIMAL');
    assert.deepEqual(await outcome(server, model, { ...audio, thinkingConfig: { thinkingLevel: ThinkingLevel.HIGH, thinkingBudget: 512 } }), INVALID, 'both');
    assert.equal(await outcome(server, model, { ...audio, thinkingConfig: { thinkingLevel: ThinkingLevel.HIGH } }), 'open');
    assert.equal(await outcome(server, model, { ...audio, thinkingConfig: { thinkingBudget: 1024 } }), 'open');
  });

  test('fields a model does not know close only in strict mode: proactivity on a half-cascade model', async () => {
    const config = { responseModalities: [Modality.TEXT], proactivity: { proactiveAudio: true } };
    assert.equal(await outcome(server, 'gemini-live-2.5-flash-preview', config), 'open');
    assert.deepEqual(await outcome(strict, 'gemini-live-2.5-flash-preview', config), {
      code: 1007,
      reason: `Invalid JSON payload received. Unknown name "proactivity" at 'setup': Cannot find field.`,
    });
  });
});
