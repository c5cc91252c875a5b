import assert from 'node:assert/strict';
import { test } from 'node:test';

test('the package exports relive (createServer) and relive-gemini/protocol (parser, encoder)', async () => {
  const relive = await import('relive-gemini');
  const protocol = await import('relive-gemini/protocol');
  assert.equal(typeof relive.createServer, 'function');
  assert.equal(typeof protocol.parseClientJson, 'function');
  assert.equal(typeof protocol.encodeServerMessage, 'function');
  const server = relive.createServer({ port: 0, logger: false });
  const { url } = await server.listen();
  const health = (await (await fetch(`${url}/healthz`)).json()) as { status: string };
  assert.equal(health.status, 'ok');
  await server.close();
});
