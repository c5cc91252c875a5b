/**
 * The typed close error: a session closed before its setupComplete rejects with the close's code
 * and reason as fields (ClosedBeforeSetupError), so callers never parse the message; the message
 * itself keeps its wording, which tests and docs quote.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClosedBeforeSetupError, connectResilient } from '../../src/client/index.js';
import { startServer } from '../helpers/server.js';

const MODEL = 'gemini-live-2.5-flash-preview';

describe('ClosedBeforeSetupError', () => {
  test('a relive that closes before setupComplete (a key not in its allow-list): connectResilient rejects with the code and reason', async () => {
    const server = await startServer({ keepaliveIntervalMs: 0, apiKeys: ['good'] });
    try {
      const err = await connectResilient({ model: MODEL, baseUrl: server.url, apiKey: 'bad', callbacks: { onmessage: () => undefined } }).then(
        () => assert.fail('connectResilient resolved'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ClosedBeforeSetupError, `rejected with ${String(err)}`);
      assert.equal(err.code, 1007);
      assert.equal(err.reason, 'API key not valid. Please pass a valid API key.');
      assert.equal(err.message, 'Live connection closed before setup completed (code 1007): API key not valid. Please pass a valid API key.');
      assert.equal(err.name, 'ClosedBeforeSetupError');
    } finally {
      await server.close();
    }
  });

  test('a model the server does not serve: 1008 with the real service\'s reason', async () => {
    const server = await startServer({ keepaliveIntervalMs: 0, unknownModels: 'reject' });
    try {
      const err = await connectResilient({ model: 'gemini-made-up', baseUrl: server.url, apiKey: 'k', callbacks: { onmessage: () => undefined } }).then(
        () => assert.fail('connectResilient resolved'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ClosedBeforeSetupError, `rejected with ${String(err)}`);
      assert.equal(err.code, 1008);
      assert.match(err.reason, /^models\/gemini-made-up is not found for API version v1beta/);
    } finally {
      await server.close();
    }
  });

  test('a server that cannot be reached: 1006, with the socket error as the reason', async () => {
    const gone = await startServer({ keepaliveIntervalMs: 0 });
    await gone.close();
    const err = await connectResilient({ model: MODEL, baseUrl: gone.url, apiKey: 'k', reconnect: { firstMaxAttempts: 0 }, callbacks: { onmessage: () => undefined } }).then(
      () => assert.fail('connectResilient resolved'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ClosedBeforeSetupError, `rejected with ${String(err)}`);
    assert.equal(err.code, 1006);
    assert.match(err.reason, /ECONNREFUSED/);
  });
});
