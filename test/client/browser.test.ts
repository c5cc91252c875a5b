/**
 * relive-gemini/client in browsers: run on the platform WebSocket (Node 20's --experimental-websocket is
 * the browser API) with a localStorage store, and nothing Node-only in its module graph.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { childEnv } from '../helpers/run-process.js';
import { startServer } from '../helpers/server.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

test('on the platform WebSocket with localStorage: a turn, a goAway rotation, the handle stored', async () => {
  const server = await startServer({ keepaliveIntervalMs: 0 });
  try {
    const env = childEnv();
    const { stdout } = await promisify(execFile)(process.execPath, ['--experimental-websocket', '--no-warnings', join(root, 'test', 'fixtures', 'browser-client.mjs'), server.url], { cwd: root, env, timeout: 30_000 });
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as { platformWebSocket: string; processHidden: boolean; events: string[]; stored: string; sessionId: string };
    assert.equal(result.platformWebSocket, 'function');
    assert.equal(result.processHidden, true);
    assert.deepEqual(result.events, ['connected', 'rotating', 'connected', 'stateRestored']);
    assert.equal(result.stored, 'gemini-live-2.5-flash-preview');
  } finally {
    await server.close();
  }
});

test('the browser module graph imports nothing from node: (ws only dynamically, where no WebSocket exists)', () => {
  const dir = join(root, 'dist', 'src', 'client');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.js') && f !== 'file-handle-store.js')) {
    const source = readFileSync(join(dir, file), 'utf8');
    assert.doesNotMatch(source, /from ['"]node:|import\(['"]node:|require\(/, `${file} must run in a browser`);
    assert.doesNotMatch(source.replace(/await import\('ws'\)/, ''), /['"]ws['"]/, `${file}: ws only through the dynamic fallback`);
  }
});
