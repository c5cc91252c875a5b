/**
 * The model catalogue (issue #16): every spelling of a model id finds its profile, the longest
 * pattern wins, an unknown model gets the default profile, and a user's profiles come first.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bareModelId } from '../../src/session/models.js';
import { BUILTIN_PROFILES, DEFAULT_PROFILE, modelCatalog } from '../../src/session/model-table.js';

const catalog = modelCatalog();

test('every spelling of a model id finds the same profile', () => {
  for (const name of [
    'gemini-3.8-live',
    'models/gemini-3.8-live',
    'publishers/google/models/gemini-3.8-live',
    'projects/p/locations/us-central1/publishers/google/models/gemini-3.8-live',
    'gemini-3.8-live-latest',
    'gemini-3.8-live-preview-11-2026',
  ]) {
    const match = catalog.lookup(name);
    assert.equal(match.known, true, name);
    assert.equal(match.profile.name, 'gemini-3.8-live', name);
  }
  assert.equal(bareModelId('projects/p/locations/l/publishers/google/models/x'), 'x');
});

test('the longest pattern wins: extended thinking is not plain 3.8', () => {
  assert.equal(catalog.lookup('models/gemini-3.8-live-extended-thinking').profile.name, 'gemini-3.8-live-extended-thinking');
  assert.equal(catalog.lookup('gemini-3.8-live-extended-thinking-preview-12-2026').profile.name, 'gemini-3.8-live-extended-thinking');
});

test('each model the issue names has its profile', () => {
  const expected: Record<string, string> = {
    'gemini-3.1-flash-live-preview': 'gemini-3.1-flash-live-preview',
    'gemini-2.5-flash-native-audio-preview-12-2025': 'gemini-2.5-flash-native-audio',
    'gemini-2.5-flash-native-audio-latest': 'gemini-2.5-flash-native-audio',
    'gemini-live-2.5-flash-native-audio': 'gemini-2.5-flash-native-audio',
    'gemini-live-2.5-flash-preview': 'gemini-live-2.5-flash-preview',
    'gemini-2.0-flash-live-001': 'gemini-live-2.5-flash-preview',
    'gemini-3.5-transcribe-live': 'gemini-3.5-transcribe-live',
  };
  for (const [model, profile] of Object.entries(expected)) assert.equal(catalog.lookup(`models/${model}`).profile.name, profile, model);
  assert.equal(BUILTIN_PROFILES.length, 6);
});

test('an unknown model gets the default profile, marked unknown', () => {
  const match = catalog.lookup('models/gemini-9-live');
  assert.equal(match.known, false);
  assert.equal(match.profile, DEFAULT_PROFILE);
});

test('a user profile overrides a built-in one by name, or extends one under a new name', () => {
  const user = modelCatalog([
    // Flip the doc-set choice: accept enableAffectiveDialog on 3.8 (the Agent Platform reading).
    {
      name: 'gemini-3.8-live',
      refusedFields: BUILTIN_PROFILES[0]!.refusedFields.filter((r) => r.field !== 'generationConfig.enableAffectiveDialog'),
    },
    { name: 'my-tuned-live', extends: 'gemini-3.1-flash-live-preview', contextWindowTokens: 64_000 },
  ]);
  const v38 = user.lookup('models/gemini-3.8-live').profile;
  assert.ok(!v38.refusedFields.some((r) => r.field === 'generationConfig.enableAffectiveDialog'));
  assert.ok(v38.refusedFields.some((r) => r.field === 'generationConfig.thinkingConfig'));
  assert.equal(v38.defaultFunctionBehavior, 'NON_BLOCKING', 'the rest is the built-in profile');
  assert.equal(user.profiles.filter((p) => p.name === 'gemini-3.8-live').length, 1);
  const mine = user.lookup('my-tuned-live');
  assert.equal(mine.known, true);
  assert.equal(mine.profile.contextWindowTokens, 64_000);
  assert.equal(mine.profile.usageMetadata, false, 'inherited from 3.1');
  assert.throws(() => modelCatalog([{ name: 'x', extends: 'no-such-profile' }]), /extends no-such-profile/);
});
