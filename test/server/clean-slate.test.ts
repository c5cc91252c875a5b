/**
 * DELETE /relive/v1/sessions/{id} and POST /relive/v1:reset, over real HTTP against a server on a
 * real SQLite file, with the official SDK as the client.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Modality, type LiveServerMessage } from '@google/genai';
import { CloseReasons } from '../../src/protocol/close-codes.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { Inbox, sdk, startServer, type TestServer } from '../helpers/server.js';

const MODEL = 'gemini-live-2.5-flash-preview';
const notFound = CloseReasons.sessionNotFound;

const dirs: string[] = [];
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function dbFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'relive-clean-slate-'));
  dirs.push(dir);
  return join(dir, 'relive.db');
}

async function startOn(file: string, adminToken?: string): Promise<TestServer> {
  return startServer({ keepaliveIntervalMs: 0, store: SqliteStore.open(file), ...(adminToken ? { adminToken } : {}) });
}

const handleOf = (m: LiveServerMessage) => m.sessionResumptionUpdate?.newHandle;

/** A session with one completed turn: its id, its newest handle, the open connection. */
async function sessionWithTurn(server: TestServer, text: string) {
  const inbox = new Inbox();
  const session = await sdk(server.url).live.connect({ model: MODEL, config: { responseModalities: [Modality.TEXT], sessionResumption: {} }, callbacks: inbox.callbacks });
  const id = inbox.messages[0]!.setupComplete!.sessionId!;
  session.sendClientContent({ turns: text });
  const done = inbox.messages.indexOf(await inbox.turnComplete());
  // The handle of the checkpoint after the turn follows its turnComplete.
  const handle = handleOf(await inbox.waitFor((m) => handleOf(m) !== undefined, done))!;
  return { id, handle, inbox, session };
}

function resume(server: TestServer, handle: string) {
  const inbox = new Inbox();
  return sdk(server.url).live.connect({ model: MODEL, config: { responseModalities: [Modality.TEXT], sessionResumption: { handle } }, callbacks: inbox.callbacks });
}

const refusedAsNotFound = (err: Error) => err.message.includes('1008') && err.message.includes(notFound.reason);

async function call(server: TestServer, method: string, path: string, body?: unknown, token?: string) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function listedIds(server: TestServer, token?: string): Promise<string[]> {
  const { body } = await call(server, 'GET', '/relive/v1/sessions', undefined, token);
  return (body.sessions as { id: string }[]).map((s) => s.id);
}

describe('DELETE /relive/v1/sessions/{id}', () => {
  test('a live session: its connection closes with 1008 session not found, the list drops it, its handle no longer resumes, not even after a restart', async () => {
    const file = await dbFile();
    let server = await startOn(file);
    try {
      const doomed = await sessionWithTurn(server, 'delete me');
      const kept = await sessionWithTurn(server, 'keep me');
      assert.deepEqual((await listedIds(server)).sort(), [doomed.id, kept.id].sort());

      const deleted = await call(server, 'DELETE', `/relive/v1/sessions/${doomed.id}`);
      assert.deepEqual([deleted.status, deleted.body], [200, { ok: true, closedConnection: true }]);
      assert.deepEqual(await doomed.inbox.waitClose(), notFound);
      assert.deepEqual(await listedIds(server), [kept.id]);
      assert.equal((await call(server, 'GET', `/relive/v1/sessions/${doomed.id}`)).status, 404);
      await assert.rejects(resume(server, doomed.handle), refusedAsNotFound);

      // Nothing of it is left in the file: a server started again on it knows only the other one.
      kept.session.close();
      await kept.inbox.waitClose();
      await server.close();
      server = await startOn(file);
      assert.deepEqual(await listedIds(server), [kept.id]);
      await assert.rejects(resume(server, doomed.handle), refusedAsNotFound);
      const back = await resume(server, kept.handle);
      back.close();
    } finally {
      await server.close();
    }
  });

  test('a detached session is deleted without a connection to close; an unknown id is 404', async () => {
    const server = await startOn(await dbFile());
    try {
      const s = await sessionWithTurn(server, 'hello');
      s.session.close();
      await s.inbox.waitClose();
      const deleted = await call(server, 'DELETE', `/relive/v1/sessions/${s.id}`);
      assert.deepEqual([deleted.status, deleted.body], [200, { ok: true, closedConnection: false }]);
      assert.deepEqual(await listedIds(server), []);
      await assert.rejects(resume(server, s.handle), refusedAsNotFound);
      const again = await call(server, 'DELETE', `/relive/v1/sessions/${s.id}`);
      assert.deepEqual([again.status, again.body], [404, { error: 'session not found' }]);
    } finally {
      await server.close();
    }
  });

  test('the admin token guards it', async () => {
    const server = await startOn(await dbFile(), 'sekrit');
    try {
      const s = await sessionWithTurn(server, 'hello');
      assert.equal((await call(server, 'DELETE', `/relive/v1/sessions/${s.id}`)).status, 401);
      assert.equal((await call(server, 'DELETE', `/relive/v1/sessions/${s.id}`, undefined, 'wrong')).status, 401);
      assert.deepEqual(await listedIds(server, 'sekrit'), [s.id]);
      assert.equal((await call(server, 'DELETE', `/relive/v1/sessions/${s.id}`, undefined, 'sekrit')).status, 200);
      assert.deepEqual(await s.inbox.waitClose(), notFound);
    } finally {
      await server.close();
    }
  });
});

describe('POST /relive/v1:reset', () => {
  test('empties the session list and the fault rules, closes live connections, and the server serves new sessions as before', async () => {
    const file = await dbFile();
    const server = await startOn(file);
    try {
      const live = await sessionWithTurn(server, 'still connected');
      const detached = await sessionWithTurn(server, 'gone already');
      detached.session.close();
      await detached.inbox.waitClose();
      const added = await call(server, 'POST', '/relive/v1/faults', [
        { match: { messageType: 'clientContent' }, action: { type: 'close', name: 'unavailable' } },
        { match: { turn: 5 }, action: { type: 'emptyTurnComplete' } },
      ]);
      assert.equal(added.status, 200);

      const reset = await call(server, 'POST', '/relive/v1:reset');
      assert.deepEqual([reset.status, reset.body], [200, { ok: true, deleted: { sessions: 2, connections: 1, faults: 2 } }]);
      assert.deepEqual(await live.inbox.waitClose(), notFound);
      assert.deepEqual(await listedIds(server), []);
      assert.deepEqual((await call(server, 'GET', '/relive/v1/faults')).body, { faults: [] });
      for (const { handle } of [live, detached]) await assert.rejects(resume(server, handle), refusedAsNotFound);

      // The close-on-clientContent rule is gone: a new session's turn is answered.
      const fresh = await sessionWithTurn(server, 'after the reset');
      assert.deepEqual(await listedIds(server), [fresh.id]);
      fresh.session.close();
      await fresh.inbox.waitClose();
    } finally {
      await server.close();
    }
    // The file holds no session any more but the one made after the reset.
    const store = SqliteStore.open(file);
    try {
      assert.equal((await store.list(Infinity)).length, 1);
    } finally {
      await store.close();
    }
  });

  test('answers only POST, behind the admin token', async () => {
    const server = await startOn(await dbFile(), 'sekrit');
    try {
      assert.equal((await call(server, 'POST', '/relive/v1:reset')).status, 401);
      assert.equal((await call(server, 'GET', '/relive/v1:reset', undefined, 'sekrit')).status, 405);
      const reset = await call(server, 'POST', '/relive/v1:reset', undefined, 'sekrit');
      assert.deepEqual(reset.body, { ok: true, deleted: { sessions: 0, connections: 0, faults: 0 } });
    } finally {
      await server.close();
    }
  });
});
