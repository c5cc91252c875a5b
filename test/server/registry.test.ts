import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SessionRegistry } from '../../src/server/registry.js';
import type { Connection } from '../../src/server/connection.js';
import type { LiveSession } from '../../src/session/live-session.js';
import type { SessionId } from '../../src/session/ids.js';

const fakeSession = (id: string) => ({ id: id as SessionId }) as LiveSession;
const noConnection = undefined as unknown as Connection;

test('keeps at most the configured number of ended sessions, evicting the oldest first', () => {
  const registry = new SessionRegistry(2);
  for (const id of ['a', 'b', 'c', 'd']) registry.add(fakeSession(id), noConnection);
  for (const id of ['b', 'a', 'd']) registry.markEnded(id as SessionId, 1);
  assert.equal(registry.get('b'), undefined, 'the oldest ended session is evicted');
  assert.ok(registry.get('a') && registry.get('d'));
  assert.ok(registry.get('c'), 'live sessions are never evicted');
  assert.equal(registry.liveCount, 1);
});
