/**
 * The SessionStore contract (src/session/store.ts), run against every implementation (memory,
 * SQLite, and Redis on a real redis-server this file starts), then what only a shared store can
 * show: durability, several nodes on one file or one Redis, commit cost, WAL.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import type { ContextTurn } from '../../src/session/context.js';
import { FencedError, type Checkpoint, type NewSessionRecord, type SessionStore } from '../../src/session/store.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { DEFAULT_STORE_SPEC, openStore } from '../../src/store/open-store.js';
import { EXPIRY_MARGIN_MS, RedisStore } from '../../src/store/redis-store.js';
import { SCHEMA_VERSION, SqliteStore } from '../../src/store/sqlite-store.js';
import { hasCode, type ReliveErrorCode } from '../../src/errors.js';
import { freePort } from '../helpers/redis-server.js';
import { sharedRedisUrl } from '../helpers/shared-redis.js';
import { needs } from '../helpers/system-packages.js';

const tempDirs: string[] = [];
after(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

const redisUrl = (db = 0): Promise<string> => sharedRedisUrl(db);

/** A RedisStore on an emptied database. */
async function freshRedisStore(db = 0): Promise<RedisStore> {
  const url = await redisUrl(db);
  const admin = new Redis(url);
  try {
    await admin.flushdb();
  } finally {
    await admin.quit();
  }
  return RedisStore.open(url);
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'relive-store-'));
  tempDirs.push(dir);
  return dir;
}

function newRecord(id: string, createdAt = 1_000): NewSessionRecord {
  return { id, principal: 'sha256:alice', model: 'models/gemini-live-2.5-flash-preview', createdAt, connectedMs: 0, videoSeen: false };
}

function checkpoint(seq: number, turnCount: number, extra: Partial<Checkpoint> = {}): Checkpoint {
  return {
    seq,
    setup: { model: 'models/gemini-live-2.5-flash-preview', generationConfig: { responseModalities: ['TEXT'] } },
    turnCount,
    userTurns: Math.ceil(turnCount / 2),
    turnsCompleted: Math.floor(turnCount / 2),
    pendingInput: [],
    lastConsumedClientMessageIndex: seq * 10,
    createdAt: 2_000 + seq,
    ...extra,
  };
}

function turn(text: string, role: ContextTurn['role'] = 'user'): ContextTurn {
  return { role, parts: [{ kind: 'text', text }] };
}

const user = (text: string) => turn(text, 'user');
const model = (text: string) => turn(text, 'model');

/** Creates session `id` (lease token 1) and commits `turns` as checkpoint 2. */
async function sessionWith(store: SessionStore, id: string, turns: ContextTurn[]): Promise<void> {
  await store.create(newRecord(id), checkpoint(1, 0));
  await store.commit({ sessionId: id, leaseToken: 1, newTurns: turns, checkpoint: checkpoint(2, turns.length) });
}

function contract(name: string, make: () => Promise<SessionStore>, options: { skip?: string } = {}): void {
  describe(`SessionStore contract: ${name}`, options, () => {
    let store: SessionStore;
    beforeEach(async () => {
      store = await make();
    });
    afterEach(async () => {
      await store.close();
    });

    test('create stores the record with lease token 1, latest seq 1, open and attached', async () => {
      await store.create(newRecord('s1', 1_234), checkpoint(1, 0));
      assert.deepEqual(await store.get('s1'), {
        ...newRecord('s1', 1_234),
        lastDetachedAt: undefined,
        holder: undefined,
        status: 'open',
        leaseToken: 1,
        latestSeq: 1,
        maxSeq: 1,
      });
    });

    test('create stores the first checkpoint with an empty history', async () => {
      await store.create(newRecord('s1'), checkpoint(1, 0));
      assert.deepEqual(await store.load('s1', 1), { checkpoint: checkpoint(1, 0), history: [] });
    });

    test('get of an unknown session is undefined', async () => {
      assert.equal(await store.get('nope'), undefined);
    });

    test('create of an existing id is refused', async () => {
      await store.create(newRecord('s1'), checkpoint(1, 0));
      await assert.rejects(store.create(newRecord('s1'), checkpoint(1, 0)), /already exists/);
    });

    test('create refuses a first checkpoint that names turns it cannot store', async () => {
      await assert.rejects(store.create(newRecord('s1'), checkpoint(1, 2)), /seq 1 and turnCount 0/);
      assert.equal(await store.get('s1'), undefined);
    });

    test('acquireLease increments the token and clears lastDetachedAt', async () => {
      await store.create(newRecord('s1'), checkpoint(1, 0));
      await store.detach('s1', 1, 5_000, 100, false);
      assert.equal(await store.acquireLease('s1'), 2);
      assert.equal(await store.acquireLease('s1'), 3);
      const record = await store.get('s1');
      assert.equal(record?.leaseToken, 3);
      assert.equal(record?.lastDetachedAt, undefined);
    });

    test('create records the creating node as holder', async () => {
      await store.create({ ...newRecord('s1'), holder: 'node-a' }, checkpoint(1, 0));
      await store.create(newRecord('s2'), checkpoint(1, 0));
      assert.equal((await store.get('s1'))?.holder, 'node-a');
      assert.equal((await store.get('s2'))?.holder, undefined);
      assert.equal((await store.list(10)).find((r) => r.id === 's1')?.holder, 'node-a');
    });

    test('acquireLease records the holder it is given, and replaces the previous one', async () => {
      await store.create({ ...newRecord('s1'), holder: 'node-a' }, checkpoint(1, 0));
      await store.acquireLease('s1', 'node-b');
      assert.equal((await store.get('s1'))?.holder, 'node-b');
      await store.acquireLease('s1');
      assert.equal((await store.get('s1'))?.holder, undefined);
    });

    test('detach, end and releaseOrphans clear the holder', async () => {
      for (const id of ['detached', 'ended', 'orphan']) await store.create({ ...newRecord(id), holder: 'node-a' }, checkpoint(1, 0));
      await store.detach('detached', 1, 5_000, 0, false);
      await store.end('ended', 1, 5_000);
      await store.releaseOrphans(6_000);
      for (const id of ['detached', 'ended', 'orphan']) assert.equal((await store.get(id))?.holder, undefined, id);
    });

    test('a fenced detach leaves the new holder in place', async () => {
      await store.create({ ...newRecord('s1'), holder: 'node-a' }, checkpoint(1, 0));
      await store.acquireLease('s1', 'node-b');
      await assert.rejects(store.detach('s1', 1, 5_000, 0, false), FencedError);
      assert.equal((await store.get('s1'))?.holder, 'node-b');
    });

    test('its errors carry codes: not found, exists, fenced, out of order, closed', async () => {
      const code = (expected: ReliveErrorCode) => (err: unknown) => hasCode(err, expected);
      await assert.rejects(store.acquireLease('nobody'), code('RELIVE_ERR_SESSION_NOT_FOUND'));
      await assert.rejects(store.detach('nobody', 1, 5_000, 0, false), code('RELIVE_ERR_SESSION_NOT_FOUND'));
      await store.create(newRecord('s1'), checkpoint(1, 0));
      await assert.rejects(store.create(newRecord('s1'), checkpoint(1, 0)), code('RELIVE_ERR_SESSION_EXISTS'));
      await assert.rejects(store.commit({ sessionId: 's1', leaseToken: 1, newTurns: [], checkpoint: checkpoint(1, 0) }), code('RELIVE_ERR_CHECKPOINT_ORDER'));
      await store.acquireLease('s1');
      const fenced = await store.detach('s1', 1, 5_000, 0, false).catch((err: unknown) => err);
      assert.ok(fenced instanceof FencedError && hasCode(fenced, 'RELIVE_ERR_FENCED') && fenced.name === 'FencedError');
      await store.close();
      await assert.rejects(store.get('s1'), code('RELIVE_ERR_STORE_CLOSED'));
      await assert.rejects(store.detach('s1', 2, 5_000, 0, false), code('RELIVE_ERR_STORE_CLOSED'));
    });

    test('releaseOrphans dates sessions left attached, and only those', async () => {
      await store.create(newRecord('attached'), checkpoint(1, 0));
      await store.create(newRecord('detached'), checkpoint(1, 0));
      await store.detach('detached', 1, 5_000, 100, false);
      assert.equal(await store.releaseOrphans(9_000), 1);
      assert.equal((await store.get('attached'))?.lastDetachedAt, 9_000);
      assert.equal((await store.get('detached'))?.lastDetachedAt, 5_000);
      assert.equal(await store.releaseOrphans(10_000), 0);
    });

    test('compression: a checkpoint whose context starts later loads only from firstTurn, across a gap of turns never committed', async () => {
      await store.create(newRecord('s1'), checkpoint(1, 0));
      await store.commit({ sessionId: 's1', leaseToken: 1, newTurns: [user('a'), model('b')], checkpoint: checkpoint(2, 2) });
      // Turns 2–4 were dropped before any commit: the log skips them.
      await store.commit({ sessionId: 's1', leaseToken: 1, newTurns: [user('f'), model('g')], checkpoint: checkpoint(3, 7, { firstTurn: 5 }) });
      assert.deepEqual((await store.load('s1', 3))?.history, [user('f'), model('g')]);
      assert.deepEqual((await store.load('s1', 2))?.history, [user('a'), model('b')]);
      // A gap that is not a compression cut is refused.
      await assert.rejects(
        store.commit({ sessionId: 's1', leaseToken: 1, newTurns: [user('x')], checkpoint: checkpoint(4, 9, { firstTurn: 5 }) }),
        /would start at 8/,
      );
      const rewound = await store.rewind('s1', 3, 1);
      assert.deepEqual(rewound?.history, [user('f'), model('g')]);
    });

    test('a number is never used twice: after a rewind, new checkpoints are numbered above the discarded ones', async () => {
      await store.create(newRecord('s1'), checkpoint(1, 0));
      await store.commit({ sessionId: 's1', leaseToken: 1, newTurns: [user('a')], checkpoint: checkpoint(2, 1) });
      await store.commit({ sessionId: 's1', leaseToken: 1, newTurns: [user('b')], checkpoint: checkpoint(3, 2) });
      await store.rewind('s1', 2, 1);
      const record = await store.get('s1');
      assert.deepEqual([record?.latestSeq, record?.maxSeq], [2, 3]);
      await assert.rejects(store.commit({ sessionId: 's1', leaseToken: 1, newTurns: [user('c')], checkpoint: checkpoint(3, 2) }), /not newer/);
      await store.commit({ sessionId: 's1', leaseToken: 1, newTurns: [user('c')], checkpoint: checkpoint(4, 2) });
      assert.equal(await store.load('s1', 3), undefined);
      assert.deepEqual((await store.load('s1', 4))?.history, [user('a'), user('c')]);
    });

    test('acquireLease of an unknown session is refused', async () => {
      await assert.rejects(store.acquireLease('nope'), /does not exist/);
    });

    test('commit appends turns and each checkpoint loads with exactly its history', async () => {
      await store.create(newRecord('s1'), checkpoint(1, 0));
      await store.commit({ sessionId: 's1', leaseToken: 1, newTurns: [user('a'), model('b')], checkpoint: checkpoint(2, 2) });
      await store.commit({ sessionId: 's1', leaseToken: 1, newTurns: [user('c'), model('d')], checkpoint: checkpoint(3, 4) });
      assert.equal((await store.get('s1'))?.latestSeq, 3);
      assert.deepEqual(await store.load('s1', 3), { checkpoint: checkpoint(3, 4), history: [user('a'), model('b'), user('c'), model('d')] });
      assert.deepEqual(await store.load('s1', 2), { checkpoint: checkpoint(2, 2), history: [user('a'), model('b')] });
    });

    test('a checkpoint round-trips every field it carries', async () => {
      const rich = checkpoint(2, 1, {
        setup: {
          model: 'models/m',
          systemInstruction: { parts: [{ text: 'Be brief.' }] },
          tools: [{ functionDeclarations: [{ name: 'lookup', parameters: { type: 'OBJECT', properties: { q: { type: 'STRING' } } } }] }],
        },
        pendingInput: [
          { kind: 'audio', seconds: 1.5, transcript: 'hi' },
          { kind: 'image', mimeType: 'image/jpeg' },
        ],
        pendingCalls: [{ id: 'c1', name: 'lookup', args: { q: 'x' }, blocking: false }],
      });
      const calling: ContextTurn = { role: 'model', parts: [{ kind: 'functionCall', id: 'c1', name: 'lookup', args: { q: 'x', n: [1, 2] } }] };
      await store.create(newRecord('s1'), checkpoint(1, 0));
      await store.commit({ sessionId: 's1', leaseToken: 1, newTurns: [calling], checkpoint: rich });
      assert.deepEqual(await store.load('s1', 2), { checkpoint: rich, history: [calling] });
    });

    test('a commit with no new turns records a checkpoint over the same history', async () => {
      await sessionWith(store, 's1', [user('a')]);
      await store.commit({ sessionId: 's1', leaseToken: 1, newTurns: [], checkpoint: checkpoint(3, 1, { lastConsumedClientMessageIndex: 99 }) });
      assert.deepEqual(await store.load('s1', 3), { checkpoint: checkpoint(3, 1, { lastConsumedClientMessageIndex: 99 }), history: [user('a')] });
    });

    test('a commit with a stale lease token fails with FencedError and writes nothing', async () => {
      await sessionWith(store, 's1', [user('a')]);
      assert.equal(await store.acquireLease('s1'), 2);
      await assert.rejects(
        store.commit({ sessionId: 's1', leaseToken: 1, newTurns: [model('stale'), user('stale')], checkpoint: checkpoint(3, 3) }),
        FencedError,
      );
      assert.equal((await store.get('s1'))?.latestSeq, 2);
      assert.equal(await store.load('s1', 3), undefined);
      // The log did not grow: the holder's commit takes the same positions.
      await store.commit({ sessionId: 's1', leaseToken: 2, newTurns: [model('b')], checkpoint: checkpoint(3, 2) });
      assert.deepEqual((await store.load('s1', 3))?.history, [user('a'), model('b')]);
    });

    test('a commit whose turns do not continue the log is refused and writes nothing', async () => {
      await sessionWith(store, 's1', [user('a')]);
      await assert.rejects(
        store.commit({ sessionId: 's1', leaseToken: 1, newTurns: [model('gap')], checkpoint: checkpoint(3, 3) }),
        /start at 2, but the log holds 1/,
      );
      await assert.rejects(
        store.commit({ sessionId: 's1', leaseToken: 1, newTurns: [model('overlap')], checkpoint: checkpoint(3, 1) }),
        /start at 0, but the log holds 1/,
      );
      assert.equal((await store.get('s1'))?.latestSeq, 2);
      assert.deepEqual((await store.load('s1', 2))?.history, [user('a')]);
    });

    test('a commit of a checkpoint that is not newer is refused', async () => {
      await sessionWith(store, 's1', [user('a')]);
      await assert.rejects(
        store.commit({ sessionId: 's1', leaseToken: 1, newTurns: [model('b')], checkpoint: checkpoint(2, 2) }),
        /not newer than checkpoint 2/,
      );
      assert.deepEqual(await store.load('s1', 2), { checkpoint: checkpoint(2, 1), history: [user('a')] });
    });

    test('a commit to an unknown session is refused', async () => {
      await assert.rejects(store.commit({ sessionId: 'nope', leaseToken: 1, newTurns: [], checkpoint: checkpoint(2, 0) }), /does not exist/);
    });

    test('rewind to an older checkpoint drops later checkpoints and turns, and a later commit continues from it', async () => {
      await sessionWith(store, 's1', [user('a'), model('b')]);
      await store.commit({ sessionId: 's1', leaseToken: 1, newTurns: [user('c'), model('d')], checkpoint: checkpoint(3, 4) });
      await store.commit({ sessionId: 's1', leaseToken: 1, newTurns: [user('e'), model('f')], checkpoint: checkpoint(4, 6) });
      const token = await store.acquireLease('s1');

      assert.deepEqual(await store.rewind('s1', 2, token), { checkpoint: checkpoint(2, 2), history: [user('a'), model('b')] });
      assert.equal((await store.get('s1'))?.latestSeq, 2);
      assert.equal(await store.load('s1', 3), undefined);
      assert.equal(await store.load('s1', 4), undefined);

      await store.commit({ sessionId: 's1', leaseToken: token, newTurns: [user('x'), model('y')], checkpoint: checkpoint(5, 4) });
      assert.deepEqual(await store.load('s1', 5), { checkpoint: checkpoint(5, 4), history: [user('a'), model('b'), user('x'), model('y')] });
    });

    test('rewind to the newest checkpoint changes nothing', async () => {
      await sessionWith(store, 's1', [user('a')]);
      assert.deepEqual(await store.rewind('s1', 2, 1), { checkpoint: checkpoint(2, 1), history: [user('a')] });
      assert.deepEqual(await store.load('s1', 2), { checkpoint: checkpoint(2, 1), history: [user('a')] });
    });

    test('rewind to an unknown checkpoint or session is undefined and changes nothing', async () => {
      await sessionWith(store, 's1', [user('a')]);
      assert.equal(await store.rewind('s1', 7, 1), undefined);
      assert.equal(await store.rewind('nope', 1, 1), undefined);
      assert.equal((await store.get('s1'))?.latestSeq, 2);
    });

    test('rewind with a stale lease token fails with FencedError and changes nothing', async () => {
      await sessionWith(store, 's1', [user('a')]);
      await store.commit({ sessionId: 's1', leaseToken: 1, newTurns: [model('b')], checkpoint: checkpoint(3, 2) });
      await store.acquireLease('s1');
      await assert.rejects(store.rewind('s1', 2, 1), FencedError);
      assert.equal((await store.get('s1'))?.latestSeq, 3);
      assert.deepEqual((await store.load('s1', 3))?.history, [user('a'), model('b')]);
    });

    test('load of an unknown session or checkpoint is undefined', async () => {
      await sessionWith(store, 's1', []);
      assert.equal(await store.load('s1', 9), undefined);
      assert.equal(await store.load('nope', 1), undefined);
    });

    test('detach sets lastDetachedAt and adds connected time; video once seen stays seen', async () => {
      await store.create(newRecord('s1'), checkpoint(1, 0));
      await store.detach('s1', 1, 10_000, 4_000, true);
      const token = await store.acquireLease('s1');
      await store.detach('s1', token, 20_000, 2_500, false);
      const record = await store.get('s1');
      assert.equal(record?.lastDetachedAt, 20_000);
      assert.equal(record?.connectedMs, 6_500);
      assert.equal(record?.videoSeen, true);
    });

    test('detach with a stale lease token fails with FencedError and changes nothing', async () => {
      await store.create(newRecord('s1'), checkpoint(1, 0));
      await store.acquireLease('s1');
      await assert.rejects(store.detach('s1', 1, 10_000, 4_000, true), FencedError);
      const record = await store.get('s1');
      assert.equal(record?.lastDetachedAt, undefined);
      assert.equal(record?.connectedMs, 0);
      assert.equal(record?.videoSeen, false);
    });

    test('end marks the session ended as of its time', async () => {
      await store.create(newRecord('s1'), checkpoint(1, 0));
      await store.end('s1', 1, 30_000);
      const record = await store.get('s1');
      assert.equal(record?.status, 'ended');
      assert.equal(record?.lastDetachedAt, 30_000);
    });

    test('end with a stale lease token fails with FencedError', async () => {
      await store.create(newRecord('s1'), checkpoint(1, 0));
      await store.acquireLease('s1');
      await assert.rejects(store.end('s1', 1, 30_000), FencedError);
      assert.equal((await store.get('s1'))?.status, 'open');
    });

    test('list gives the newest created sessions first, at most limit', async () => {
      await store.create(newRecord('old', 1_000), checkpoint(1, 0));
      await store.create(newRecord('new', 3_000), checkpoint(1, 0));
      await store.create(newRecord('mid', 2_000), checkpoint(1, 0));
      assert.deepEqual((await store.list(10)).map((r) => r.id), ['new', 'mid', 'old']);
      assert.deepEqual((await store.list(2)).map((r) => r.id), ['new', 'mid']);
      assert.deepEqual(await store.list(0), []);
      assert.equal((await store.list(Infinity)).length, 3);
      assert.deepEqual((await store.list(1))[0], await store.get('new'));
    });

    test('expire removes only sessions detached before the cutoff, with their history', async () => {
      await sessionWith(store, 'old', [user('a')]);
      await sessionWith(store, 'recent', [user('b')]);
      await sessionWith(store, 'attached', [user('c')]);
      await sessionWith(store, 'ended', [user('d')]);
      await store.detach('old', 1, 1_000, 10, false);
      await store.detach('recent', 1, 5_000, 10, false);
      await store.end('ended', 1, 2_000);

      assert.equal(await store.expire(3_000), 2);
      assert.equal(await store.get('old'), undefined);
      assert.equal(await store.get('ended'), undefined);
      assert.equal(await store.load('old', 2), undefined);
      assert.deepEqual((await store.list(10)).map((r) => r.id).sort(), ['attached', 'recent']);
      assert.deepEqual((await store.load('recent', 2))?.history, [user('b')]);
      assert.equal(await store.expire(3_000), 0);
    });

    test('delete removes one session, attached or not, with its history and values, and only it', async () => {
      await sessionWith(store, 'attached', [user('a'), model('b')]);
      await sessionWith(store, 'detached', [user('c')]);
      await sessionWith(store, 'kept', [user('d')]);
      await store.detach('detached', 1, 1_000, 10, false);
      await store.setSessionValue('attached', 'k', 'v');
      await store.setSessionValue('kept', 'k', 'kept value');

      assert.equal(await store.delete('attached'), true);
      assert.equal(await store.delete('detached'), true);
      for (const id of ['attached', 'detached']) {
        assert.equal(await store.get(id), undefined);
        assert.equal(await store.load(id, 2), undefined);
        assert.equal(await store.getSessionValue(id, 'k'), undefined);
      }
      assert.deepEqual((await store.list(10)).map((r) => r.id), ['kept']);
      assert.deepEqual((await store.load('kept', 2))?.history, [user('d')]);
      assert.equal(await store.getSessionValue('kept', 'k'), 'kept value');
      // Writes for a deleted session fail the way they do for one that never existed.
      await assert.rejects(store.acquireLease('attached'), /does not exist/);
      assert.equal(await store.delete('attached'), false);
      assert.equal(await store.delete('never'), false);
    });

    test('a deleted id can be created again from scratch', async () => {
      await sessionWith(store, 's1', [user('old')]);
      await store.setSessionValue('s1', 'k', 'old value');
      await store.delete('s1');
      await sessionWith(store, 's1', [user('new')]);
      assert.deepEqual((await store.load('s1', 2))?.history, [user('new')]);
      assert.equal(await store.getSessionValue('s1', 'k'), undefined);
      assert.deepEqual((await store.list(10)).map((r) => r.id), ['s1']);
    });

    test('deleteAll removes every session and keeps the meta values', async () => {
      await store.setMeta('handle-secret', 'secret');
      await sessionWith(store, 'a', [user('a')]);
      await sessionWith(store, 'b', [user('b')]);
      await store.end('b', 1, 2_000);
      await store.create(newRecord('c'), checkpoint(1, 0));
      await store.setSessionValue('a', 'k', 'v');

      assert.equal(await store.deleteAll(), 3);
      assert.deepEqual(await store.list(Infinity), []);
      for (const id of ['a', 'b', 'c']) assert.equal(await store.get(id), undefined);
      assert.equal(await store.load('a', 2), undefined);
      assert.equal(await store.getSessionValue('a', 'k'), undefined);
      assert.equal(await store.getMeta('handle-secret'), 'secret');
      assert.equal(await store.deleteAll(), 0);
      await sessionWith(store, 'a', [user('again')]);
      assert.deepEqual((await store.load('a', 2))?.history, [user('again')]);
    });

    test('an expired id can be created again from scratch', async () => {
      await sessionWith(store, 's1', [user('old')]);
      await store.detach('s1', 1, 1_000, 0, false);
      await store.expire(2_000);
      await sessionWith(store, 's1', [user('new')]);
      assert.deepEqual((await store.load('s1', 2))?.history, [user('new')]);
    });

    test('session values round-trip, are overwritten, and are deleted by undefined', async () => {
      await store.create(newRecord('s1'), checkpoint(1, 0));
      await store.create(newRecord('s2'), checkpoint(1, 0));
      assert.equal(await store.getSessionValue('s1', 'k'), undefined);
      await store.setSessionValue('s1', 'k', 'one');
      await store.setSessionValue('s1', 'other', 'x');
      assert.equal(await store.getSessionValue('s1', 'k'), 'one');
      await store.setSessionValue('s1', 'k', 'two');
      assert.equal(await store.getSessionValue('s1', 'k'), 'two');
      assert.equal(await store.getSessionValue('s2', 'k'), undefined, 'values belong to one session');
      await store.setSessionValue('s1', 'k', undefined);
      assert.equal(await store.getSessionValue('s1', 'k'), undefined);
      assert.equal(await store.getSessionValue('s1', 'other'), 'x');
      await store.setSessionValue('s1', 'never-set', undefined);
      // An empty string is a value, not a deletion.
      await store.setSessionValue('s2', 'k', '');
      assert.equal(await store.getSessionValue('s2', 'k'), '');
    });

    test('a session value on a session that does not exist is a no-op', async () => {
      await store.setSessionValue('nope', 'k', 'v');
      await store.setSessionValue('nope', 'k', undefined);
      assert.equal(await store.getSessionValue('nope', 'k'), undefined);
      assert.equal(await store.get('nope'), undefined);
      // … and leaves nothing for a session created later under that id.
      await store.create(newRecord('nope'), checkpoint(1, 0));
      assert.equal(await store.getSessionValue('nope', 'k'), undefined);
    });

    test('session values are not fenced: any writer, last write wins', async () => {
      await store.create(newRecord('s1'), checkpoint(1, 0));
      await store.acquireLease('s1');
      await store.setSessionValue('s1', 'k', 'v');
      await store.detach('s1', 2, 5_000, 0, false);
      await store.setSessionValue('s1', 'k', 'after detach');
      assert.equal(await store.getSessionValue('s1', 'k'), 'after detach');
    });

    test('expire deletes a session’s values with it, and only its', async () => {
      await sessionWith(store, 'old', [user('a')]);
      await sessionWith(store, 'recent', [user('b')]);
      await store.setSessionValue('old', 'k', 'old value');
      await store.setSessionValue('recent', 'k', 'recent value');
      await store.detach('old', 1, 1_000, 0, false);
      await store.detach('recent', 1, 5_000, 0, false);
      assert.equal(await store.expire(3_000), 1);
      assert.equal(await store.getSessionValue('old', 'k'), undefined);
      assert.equal(await store.getSessionValue('recent', 'k'), 'recent value');
    });

    test('a session created again under an expired id starts with no values', async () => {
      await sessionWith(store, 's1', [user('old')]);
      await store.setSessionValue('s1', 'k', 'old value');
      await store.detach('s1', 1, 1_000, 0, false);
      await store.expire(2_000);
      await sessionWith(store, 's1', [user('new')]);
      assert.equal(await store.getSessionValue('s1', 'k'), undefined);
      await store.setSessionValue('s1', 'k', 'new value');
      assert.equal(await store.getSessionValue('s1', 'k'), 'new value');
    });

    test('meta values are kept, overwritten, and undefined when never set', async () => {
      assert.equal(await store.getMeta('handle-secret'), undefined);
      await store.setMeta('handle-secret', 'one');
      await store.setMeta('handle-secret', 'two');
      assert.equal(await store.getMeta('handle-secret'), 'two');
    });

    test('initMeta: the first value stays; every caller gets it', async () => {
      assert.equal(await store.initMeta('secret', 'first'), 'first');
      assert.deepEqual(await Promise.all([store.initMeta('secret', 'second'), store.initMeta('secret', 'third')]), ['first', 'first']);
      assert.equal(await store.getMeta('secret'), 'first');
    });

    test('values handed in or out cannot be mutated into the store', async () => {
      const turns = [user('a')];
      const cp = checkpoint(2, 1, { pendingInput: [{ kind: 'text', text: 'pending' }] });
      await store.create(newRecord('s1'), checkpoint(1, 0));
      await store.commit({ sessionId: 's1', leaseToken: 1, newTurns: turns, checkpoint: cp });
      // The caller keeps mutating what it committed …
      turns[0]!.parts.push({ kind: 'text', text: 'later' });
      (cp.pendingInput as unknown as unknown[]).length = 0;
      // … and what it loaded.
      const loaded = await store.load('s1', 2);
      assert.ok(loaded);
      loaded.history[0]!.parts.length = 0;
      (loaded.checkpoint.setup as { model: string }).model = 'mutated';
      (loaded.checkpoint as { turnCount: number }).turnCount = 0;
      const record = await store.get('s1');
      (record as { leaseToken: number }).leaseToken = 99;
      ((await store.list(1))[0] as { status: string }).status = 'ended';

      assert.deepEqual(await store.load('s1', 2), {
        checkpoint: checkpoint(2, 1, { pendingInput: [{ kind: 'text', text: 'pending' }] }),
        history: [user('a')],
      });
      assert.equal((await store.get('s1'))?.leaseToken, 1);
      assert.equal((await store.get('s1'))?.status, 'open');
    });
  });
}

contract('memory', async () => new MemoryStore());
contract('sqlite', async () => SqliteStore.open(join(await tempDir(), 'nested', 'relive.db')));
contract('redis', () => freshRedisStore(), needs('redis-server'));

describe('RedisStore on a shared server', needs('redis-server'), () => {
  const open: SessionStore[] = [];
  const node = async (): Promise<RedisStore> => {
    const store = await RedisStore.open(await redisUrl());
    open.push(store);
    return store;
  };
  beforeEach(async () => {
    open.push(await freshRedisStore());
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });

  test('two nodes see each other’s sessions, and the newer lease fences the older', async () => {
    const nodeA = await node();
    const nodeB = await node();
    await sessionWith(nodeA, 's1', [user('a')]);
    assert.deepEqual((await nodeB.load('s1', 2))?.history, [user('a')]);
    assert.deepEqual((await nodeB.list(10)).map((r) => r.id), ['s1']);

    // The session moves to node B; node A has not noticed yet.
    const tokenB = await nodeB.acquireLease('s1');
    assert.equal(tokenB, 2);
    await assert.rejects(nodeA.commit({ sessionId: 's1', leaseToken: 1, newTurns: [model('from A')], checkpoint: checkpoint(3, 2) }), FencedError);
    await assert.rejects(nodeA.detach('s1', 1, 9_000, 1_000, false), FencedError);
    await assert.rejects(nodeA.end('s1', 1, 9_000), FencedError);
    await assert.rejects(nodeA.rewind('s1', 1, 1), FencedError);
    await nodeB.commit({ sessionId: 's1', leaseToken: tokenB, newTurns: [model('from B')], checkpoint: checkpoint(3, 2) });

    assert.deepEqual((await nodeA.load('s1', 3))?.history, [user('a'), model('from B')]);
    assert.equal((await nodeA.get('s1'))?.leaseToken, tokenB);
    await nodeA.setMeta('handle-secret', 'k');
    assert.equal(await nodeB.getMeta('handle-secret'), 'k');
  });

  test('concurrent lease takers get distinct tokens, and only the newest can write', async () => {
    const nodes = await Promise.all([node(), node(), node()]);
    await nodes[0]!.create(newRecord('s1'), checkpoint(1, 0));
    const tokens = await Promise.all(nodes.flatMap((n) => [n.acquireLease('s1'), n.acquireLease('s1')]));
    assert.deepEqual([...tokens].sort((a, b) => a - b), [2, 3, 4, 5, 6, 7]);
    const results = await Promise.allSettled(
      tokens.map((token, i) => nodes[i % 3]!.commit({ sessionId: 's1', leaseToken: token, newTurns: [user(`t${token}`)], checkpoint: checkpoint(2, 1) })),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    assert.deepEqual((await nodes[1]!.load('s1', 2))?.history, [user('t7')]);
  });

  test('a session’s keys share one hash tag, so a cluster keeps them on one slot', async () => {
    const store = await node();
    await sessionWith(store, 'abc', [user('a')]);
    await store.setSessionValue('abc', 'k', 'v');
    const admin = new Redis(await redisUrl());
    try {
      const keys = (await admin.keys('relive:{abc}:*')).sort();
      assert.deepEqual(keys, ['relive:{abc}:checkpoints', 'relive:{abc}:session', 'relive:{abc}:turncounts', 'relive:{abc}:turns', 'relive:{abc}:values']);
    } finally {
      await admin.quit();
    }
  });

  test('an id expired and created again is listed once, and a stale index entry is cleaned up', async () => {
    const store = await node();
    await sessionWith(store, 's1', [user('old')]);
    await store.detach('s1', 1, 1_000, 0, false);
    assert.equal(await store.expire(2_000), 1);
    await sessionWith(store, 's1', [user('new')]);
    assert.deepEqual((await store.list(10)).map((r) => r.id), ['s1']);
    assert.equal((await store.get('s1'))?.leaseToken, 1);
    assert.equal(await store.expire(2_000), 0);
    assert.deepEqual((await store.list(10)).map((r) => r.id), ['s1']);
  });

  test('detach and end set a TTL of the handle validity plus a margin on every key of the session; acquireLease removes it', async () => {
    const store = await node();
    store.handleTtlMs = 60_000;
    await sessionWith(store, 's1', [user('a')]);
    await sessionWith(store, 's2', [user('b')]);
    await store.setSessionValue('s1', 'k', 'v');
    await store.setSessionValue('s2', 'k', 'v');
    const admin = new Redis(await redisUrl());
    const ttls = async (id: string) => Promise.all(['session', 'turns', 'checkpoints', 'turncounts', 'values'].map((k) => admin.pttl(`relive:{${id}}:${k}`)));
    try {
      assert.deepEqual(await ttls('s1'), [-1, -1, -1, -1, -1]);
      await store.detach('s1', 1, 5_000, 0, false);
      await store.end('s2', 1, 5_000);
      for (const ttl of [...(await ttls('s1')), ...(await ttls('s2'))]) {
        assert.ok(ttl > 60_000 + EXPIRY_MARGIN_MS - 5_000 && ttl <= 60_000 + EXPIRY_MARGIN_MS, `ttl ${ttl}`);
      }
      await store.acquireLease('s1', 'node-b');
      assert.deepEqual(await ttls('s1'), [-1, -1, -1, -1, -1]);
    } finally {
      await admin.quit();
    }
  });

  test('a session value written while detached (a new values key) expires with the session’s keys', async () => {
    const store = await node();
    store.handleTtlMs = 60_000;
    await sessionWith(store, 's1', [user('a')]);
    const admin = new Redis(await redisUrl());
    try {
      await store.detach('s1', 1, 5_000, 0, false);
      assert.equal(await admin.exists('relive:{s1}:values'), 0);
      await store.setSessionValue('s1', 'k', 'v');
      const ttl = await admin.pttl('relive:{s1}:values');
      assert.ok(ttl > 60_000 + EXPIRY_MARGIN_MS - 5_000 && ttl <= (await admin.pttl('relive:{s1}:session')) + 1_000, `ttl ${ttl}`);
      await store.acquireLease('s1');
      await store.setSessionValue('s1', 'k', 'w');
      assert.equal(await admin.pttl('relive:{s1}:values'), -1);
    } finally {
      await admin.quit();
    }
  });

  test('a session value is neither written nor read once Redis deleted the session key (its TTL ran out)', async () => {
    const store = await node();
    await sessionWith(store, 's1', [user('a')]);
    await store.setSessionValue('s1', 'k', 'v');
    const admin = new Redis(await redisUrl());
    try {
      await admin.del('relive:{s1}:session');
      assert.equal(await store.getSessionValue('s1', 'k'), undefined);
      await admin.del('relive:{s1}:values');
      await store.setSessionValue('s1', 'k', 'late');
      assert.equal(await admin.exists('relive:{s1}:values'), 0, 'no key without a TTL for a vanished session');
    } finally {
      await admin.quit();
    }
  });

  test('expire deletes the values key with the session', async () => {
    const store = await node();
    await sessionWith(store, 's1', [user('a')]);
    await store.setSessionValue('s1', 'k', 'v');
    await store.detach('s1', 1, 1_000, 0, false);
    assert.equal(await store.expire(2_000), 1);
    const admin = new Redis(await redisUrl());
    try {
      assert.deepEqual(await admin.keys('relive:{s1}:*'), []);
    } finally {
      await admin.quit();
    }
  });

  test('a commit by the lease holder removes a TTL a sweep set while its node looked dead', async () => {
    const store = await node();
    await sessionWith(store, 's1', [user('a')]);
    const admin = new Redis(await redisUrl());
    try {
      // A sweep released the session with the holder's own token (its node's presence had lapsed).
      await store.detach('s1', 1, 5_000, 0, false);
      assert.ok((await admin.pttl('relive:{s1}:session')) > 0);
      await store.commit({ sessionId: 's1', leaseToken: 1, newTurns: [user('b')], checkpoint: checkpoint(3, 2) });
      const ttls = await Promise.all(['session', 'turns', 'checkpoints', 'turncounts'].map((k) => admin.pttl(`relive:{s1}:${k}`)));
      assert.deepEqual(ttls, [-1, -1, -1, -1]);
    } finally {
      await admin.quit();
    }
  });

  test('the TTL comes from the detachedTtlMs option', async () => {
    const store = await RedisStore.open(await redisUrl(), { detachedTtlMs: 1_000 });
    open.push(store);
    await store.create(newRecord('s1'), checkpoint(1, 0));
    await store.detach('s1', 1, 5_000, 0, false);
    const admin = new Redis(await redisUrl());
    try {
      const ttl = await admin.pttl('relive:{s1}:session');
      assert.ok(ttl > 0 && ttl <= 1_000 + EXPIRY_MARGIN_MS, `ttl ${ttl}`);
    } finally {
      await admin.quit();
    }
  });

  test('a session Redis deleted (its keys expired) is not listed, and expire removes its index entry', async () => {
    const store = await node();
    await sessionWith(store, 'gone', [user('a')]);
    await sessionWith(store, 'kept', [user('b')]);
    const admin = new Redis(await redisUrl());
    try {
      await admin.del('relive:{gone}:session', 'relive:{gone}:turns', 'relive:{gone}:checkpoints', 'relive:{gone}:turncounts');
      assert.deepEqual((await store.list(10)).map((r) => r.id), ['kept']);
      assert.equal(await store.expire(0), 0);
      assert.deepEqual((await admin.zrange('relive:sessions', '0', '-1')).map((m) => m.slice(m.indexOf(':') + 1)), ['kept']);
    } finally {
      await admin.quit();
    }
  });

  test('the database number in the URL keeps stores apart', async () => {
    const db0 = await node();
    const db1 = await freshRedisStore(1);
    open.push(db1);
    await db0.create(newRecord('s1'), checkpoint(1, 0));
    assert.equal(await db1.get('s1'), undefined);
    assert.deepEqual(await db1.list(10), []);
  });
});

describe('SqliteStore on a file', () => {
  let path: string;
  const open: SessionStore[] = [];
  const openStoreAt = (p: string): SqliteStore => {
    const store = SqliteStore.open(p);
    open.push(store);
    return store;
  };
  beforeEach(async () => {
    path = join(await tempDir(), 'relive.db');
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });

  test('data survives closing and reopening the file', async () => {
    const first = openStoreAt(path);
    await sessionWith(first, 's1', [user('a'), model('b')]);
    await first.detach('s1', 1, 7_000, 3_000, true);
    await first.setMeta('handle-secret', 'k');
    await first.close();

    const second = openStoreAt(path);
    assert.deepEqual(await second.load('s1', 2), { checkpoint: checkpoint(2, 2), history: [user('a'), model('b')] });
    assert.deepEqual(await second.get('s1'), {
      ...newRecord('s1'),
      lastDetachedAt: 7_000,
      holder: undefined,
      connectedMs: 3_000,
      videoSeen: true,
      status: 'open',
      leaseToken: 1,
      latestSeq: 2,
      maxSeq: 2,
    });
    assert.equal(await second.getMeta('handle-secret'), 'k');
  });

  test('two stores on one file see each other’s commits, and the newer lease fences the older', async () => {
    const nodeA = openStoreAt(path);
    const nodeB = openStoreAt(path);
    await sessionWith(nodeA, 's1', [user('a')]);
    assert.deepEqual((await nodeB.load('s1', 2))?.history, [user('a')]);

    // The session moves to node B; node A has not noticed yet.
    const tokenB = await nodeB.acquireLease('s1');
    await assert.rejects(nodeA.commit({ sessionId: 's1', leaseToken: 1, newTurns: [model('from A')], checkpoint: checkpoint(3, 2) }), FencedError);
    await assert.rejects(nodeA.detach('s1', 1, 9_000, 1_000, false), FencedError);
    await nodeB.commit({ sessionId: 's1', leaseToken: tokenB, newTurns: [model('from B')], checkpoint: checkpoint(3, 2) });

    assert.deepEqual((await nodeA.load('s1', 3))?.history, [user('a'), model('from B')]);
    assert.equal((await nodeA.get('s1'))?.leaseToken, tokenB);
  });

  test('WAL journal mode is on and the schema version is recorded', async () => {
    const store = openStoreAt(path);
    await store.create(newRecord('s1'), checkpoint(1, 0));
    assert.ok(existsSync(`${path}-wal`));
    const raw = new Database(path, { readonly: true });
    try {
      assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
      assert.deepEqual(raw.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get(), { value: String(SCHEMA_VERSION) });
    } finally {
      raw.close();
    }
    await assert.rejects(store.setMeta('schema_version', '0'), /reserved/);
  });

  test('a file of the previous schema (no holder column) is migrated in place and keeps its sessions', async () => {
    const first = openStoreAt(path);
    await sessionWith(first, 's1', [user('a')]);
    await first.close();
    // Back to version 2: the file as the relive before holders left it.
    const raw = new Database(path);
    raw.exec('ALTER TABLE sessions DROP COLUMN holder; DROP TABLE session_values');
    raw.prepare("UPDATE meta SET value = '2' WHERE key = 'schema_version'").run();
    raw.close();

    const second = openStoreAt(path);
    assert.equal((await second.get('s1'))?.holder, undefined);
    assert.deepEqual((await second.load('s1', 2))?.history, [user('a')]);
    await second.acquireLease('s1', 'node-b');
    assert.equal((await second.get('s1'))?.holder, 'node-b');
    const check = new Database(path, { readonly: true });
    try {
      assert.deepEqual(check.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get(), { value: String(SCHEMA_VERSION) });
    } finally {
      check.close();
    }
  });

  test('a file of the previous schema (no session_values table) is migrated in place and keeps its sessions', async () => {
    const first = openStoreAt(path);
    await sessionWith(first, 's1', [user('a')]);
    await first.acquireLease('s1', 'node-a');
    await first.close();
    // Back to version 3: the file as the relive before session values left it.
    const raw = new Database(path);
    raw.exec('DROP TABLE session_values');
    raw.prepare("UPDATE meta SET value = '3' WHERE key = 'schema_version'").run();
    raw.close();

    const second = openStoreAt(path);
    assert.equal((await second.get('s1'))?.holder, 'node-a');
    assert.deepEqual((await second.load('s1', 2))?.history, [user('a')]);
    assert.equal(await second.getSessionValue('s1', 'k'), undefined);
    await second.setSessionValue('s1', 'k', 'v');
    assert.equal(await second.getSessionValue('s1', 'k'), 'v');
    await second.detach('s1', 2, 1_000, 0, false);
    assert.equal(await second.expire(2_000), 1);
    const check = new Database(path, { readonly: true });
    try {
      assert.deepEqual(check.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get(), { value: String(SCHEMA_VERSION) });
      assert.deepEqual(check.prepare('SELECT * FROM session_values').all(), []);
    } finally {
      check.close();
    }
  });

  test('session values survive closing and reopening the file', async () => {
    const first = openStoreAt(path);
    await sessionWith(first, 's1', [user('a')]);
    await first.setSessionValue('s1', 'gateway.upstream', '{"handle":"h"}');
    await first.close();
    const second = openStoreAt(path);
    assert.equal(await second.getSessionValue('s1', 'gateway.upstream'), '{"handle":"h"}');
  });

  test('a file from a newer schema version is refused', async () => {
    await openStoreAt(path).close();
    const raw = new Database(path);
    raw.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(String(SCHEMA_VERSION + 1));
    raw.close();
    assert.throws(() => SqliteStore.open(path), /newer than this relive supports/);
  });

  test('a commit’s time does not grow with the length of the history', async (t) => {
    const store = openStoreAt(path);
    await store.create(newRecord('long'), checkpoint(1, 0));
    const commits = 2_000;
    const micros: number[] = [];
    for (let i = 0; i < commits; i++) {
      const newTurn = i % 2 === 0 ? user(`question ${i} `.repeat(8)) : model(`answer ${i} `.repeat(20));
      const started = process.hrtime.bigint();
      await store.commit({ sessionId: 'long', leaseToken: 1, newTurns: [newTurn], checkpoint: checkpoint(i + 2, i + 1) });
      micros.push(Number(process.hrtime.bigint() - started) / 1_000);
    }
    const firstMedian = median(micros.slice(0, 100));
    const lastMedian = median(micros.slice(-100));
    t.diagnostic(`1-turn commit median: first 100 ${firstMedian.toFixed(0)} µs, last 100 ${lastMedian.toFixed(0)} µs, all ${median(micros).toFixed(0)} µs`);
    assert.equal((await store.load('long', commits + 1))?.history.length, commits);
    assert.ok(lastMedian <= firstMedian * 3, `commit median grew from ${firstMedian.toFixed(0)} µs to ${lastMedian.toFixed(0)} µs`);
  });
});

describe('openStore', () => {
  test('memory gives a MemoryStore', async () => {
    const store = await openStore('memory');
    assert.ok(store instanceof MemoryStore);
    await store.close();
  });

  test('sqlite:PATH gives a SqliteStore on that file', async () => {
    const dir = await tempDir();
    const store = await openStore(`sqlite:${join(dir, 'a', 'x.db')}`);
    assert.ok(store instanceof SqliteStore);
    await store.close();
    assert.ok(existsSync(join(dir, 'a', 'x.db')));
  });

  test('a bare word or path is refused with the allowed forms, not taken as a file (issue #14: --store memroy)', async () => {
    const dir = await tempDir();
    await assert.rejects(openStore('memroy'), /store: "memroy" is not a store spec; use memory, sqlite:PATH or redis:\/\/HOST:PORT\[\/DB\] \(did you mean memory\?\)/);
    assert.equal(existsSync('memroy'), false, 'a file named memroy was created');
    const bare = join(dir, 'sessions.db');
    await assert.rejects(openStore(bare), new RegExp(`did you mean sqlite:${bare.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\?`));
    assert.equal(existsSync(bare), false);
  });

  test('the default spec is a SQLite file under ./.relive', () => {
    assert.equal(DEFAULT_STORE_SPEC, 'sqlite:./.relive/relive.db');
  });

  test('an unknown scheme or an empty spec is refused with a clear error', async () => {
    await assert.rejects(openStore('postgres://localhost:5432'), /unknown scheme "postgres".*supported: memory, sqlite:PATH, redis:\/\/HOST:PORT/);
    await assert.rejects(openStore('sqlite:'), /names no file/);
    await assert.rejects(openStore(' '), /empty spec/);
  });

  test('redis://HOST:PORT gives a RedisStore on that server', needs('redis-server'), async () => {
    const store = await openStore(await redisUrl());
    try {
      assert.ok(store instanceof RedisStore);
      await store.setMeta('probe', 'yes');
      assert.equal(await store.getMeta('probe'), 'yes');
    } finally {
      await store.close();
    }
  });

  test('an unreachable Redis fails fast with a clear error', async () => {
    const port = await freePort();
    const started = Date.now();
    await assert.rejects(openStore(`redis://127.0.0.1:${port}`), new RegExp(`cannot reach Redis at redis://127\\.0\\.0\\.1:${port}`));
    assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
  });
});

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
