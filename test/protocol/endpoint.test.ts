import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { matchLiveEndpoint, readCredential } from '../../src/protocol/endpoint.js';

describe('matchLiveEndpoint', () => {
  test('matches the SDK double-slash path for every version', () => {
    for (const v of ['v1', 'v1beta', 'v1alpha']) {
      assert.deepEqual(matchLiveEndpoint(`//ws/google.ai.generativelanguage.${v}.GenerativeService.BidiGenerateContent`), {
        apiVersion: v,
        constrained: false,
      });
    }
  });

  test('ignores a prefix before /ws/ and recognises the constrained path', () => {
    assert.deepEqual(matchLiveEndpoint('/some/prefix//ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContentConstrained'), {
      apiVersion: 'v1alpha',
      constrained: true,
    });
  });

  test('refuses other paths', () => {
    assert.equal(matchLiveEndpoint('/ws/other'), undefined);
    assert.equal(matchLiveEndpoint('/ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContentX'), undefined);
  });
});

describe('readCredential', () => {
  test('reads ?key= and a raw ?access_token=auth_tokens/…', () => {
    assert.deepEqual(readCredential('key=abc', {}), { value: 'abc', source: 'key' });
    assert.deepEqual(readCredential('access_token=auth_tokens/x1', {}), { value: 'auth_tokens/x1', source: 'access_token' });
  });

  test('reads x-goog-api-key and Authorization Token or Bearer', () => {
    assert.deepEqual(readCredential('', { 'x-goog-api-key': 'k' }), { value: 'k', source: 'x-goog-api-key' });
    assert.deepEqual(readCredential('', { authorization: 'Token auth_tokens/t' }), { value: 'auth_tokens/t', source: 'authorization-token' });
    assert.deepEqual(readCredential('', { authorization: 'Bearer ya29' }), { value: 'ya29', source: 'authorization-bearer' });
  });

  test('finds nothing when no credential is sent', () => {
    assert.equal(readCredential('', {}), undefined);
  });
});
