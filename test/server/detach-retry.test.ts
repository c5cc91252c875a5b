/**
 * The detach a closing connection makes, through a store that is gone: given up at once when the
 * store says it is closed or has no such session (codes, not message text), retried when it is
 * only unreachable. Retries are counted through the injectable `later`, never waited for.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { detachWithRetry, type DetachDeps, type DetachRequest } from '../../src/server/detach-retry.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';

const MODEL = 'models/gemini-live-2.5-flash-preview';
const dirs: string[] = [];
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const request: DetachRequest = { sessionId: 's1', leaseToken: 1, at: 5_000, connectedMs: 4_000, videoSeen: false };

function recording(store: DetachDeps['store']) {
  const lines: { level: string; msg: string; attempt?: number }[] = [];
  const retries: number[] = [];
  const pending: (() => void)[] = [];
  const deps: DetachDeps = {
    store,
    log: {
      info: (obj, msg) => lines.push({ level: 'info', msg, ...obj }),
      error: (obj, msg) => lines.push({ level: 'error', msg, ...obj }),
    },
    later: (ms, retry) => {
      retries.push(ms);
      pending.push(retry);
    },
  };
  return { deps, lines, retries, pending };
}

async function storeWithSession<S extends SqliteStore | MemoryStore>(store: S): Promise<S> {
  await store.create(
    { id: 's1', principal: 'p', model: MODEL, createdAt: 0, connectedMs: 0, videoSeen: false },
    { seq: 1, setup: { model: MODEL }, turnCount: 0, userTurns: 0, turnsCompleted: 0, pendingInput: [], lastConsumedClientMessageIndex: 0, createdAt: 0 },
  );
  return store;
}

test('a late detach against a closed SQLite store gives up at once: one failure logged, no retry', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'relive-detach-'));
  dirs.push(dir);
  const store = await storeWithSession(SqliteStore.open(join(dir, 'relive.db')));
  await store.close();
  const { deps, lines, retries } = recording(store);
  await detachWithRetry(deps, request);
  assert.deepEqual(lines, [{ level: 'error', msg: 'detaching the session failed', err: 'The database connection is not open', attempt: 0 }]);
  assert.deepEqual(retries, [], 'no retry scheduled');
});

test('a detach of a session the store no longer has gives up at once', async () => {
  const { deps, retries } = recording(new MemoryStore());
  await detachWithRetry(deps, request);
  assert.deepEqual(retries, []);
});

test('a store that is only unreachable is tried again, and the retry detaches once it is back', async () => {
  const store = await storeWithSession(new MemoryStore());
  let down = true;
  const flaky: DetachDeps['store'] = {
    detach: (...args) => (down ? Promise.reject(new Error('Connection is closed.')) : store.detach(...args)),
  };
  const { deps, lines, retries, pending } = recording(flaky);
  await detachWithRetry(deps, request);
  assert.deepEqual(retries, [1_000]);
  down = false;
  pending.shift()!();
  await new Promise<void>((resolve) => setImmediate(resolve));
  assert.deepEqual(
    lines.map((l) => [l.level, l.msg, l.attempt]),
    [
      ['error', 'detaching the session failed', 0],
      ['info', 'session detached after the store came back', 1],
    ],
  );
  assert.equal((await store.get('s1'))?.lastDetachedAt, 5_000);
});
