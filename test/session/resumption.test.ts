/**
 * Resumption as a unit: the real Checkpointer over a MemoryStore whose commits the test holds
 * open and lets go one at a time. Absence is proven at a point the test chooses (a commit still
 * held), never by waiting.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CloseReasons, type CloseSpec } from '../../src/protocol/close-codes.js';
import type { ServerMessage } from '../../src/protocol/server-messages.js';
import { Checkpointer } from '../../src/session/checkpointer.js';
import type { SessionSnapshot } from '../../src/session/live-session.js';
import { Resumption, type ResumableSession } from '../../src/session/resumption.js';
import type { CommitRequest } from '../../src/session/store.js';
import { MemoryStore } from '../../src/store/memory-store.js';

const MODEL = 'models/gemini-live-2.5-flash-preview';

/** A MemoryStore whose every commit waits until the test releases it (or fails it). */
class HeldCommits extends MemoryStore {
  readonly held: { request: CommitRequest; release: () => void; fail: (err: Error) => void }[] = [];
  /** The newest checkpoint the store has made durable. */
  durableSeq = 1;

  override commit(request: CommitRequest): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.held.push({ request, release: () => resolve(super.commit(request).then(() => void (this.durableSeq = request.checkpoint.seq))), fail: reject });
    });
  }
}

class FakeSession implements ResumableSession {
  readonly id = 's1';
  resumable = true;
  status = 'idle';
  turnsCompleted = 0;
  snapshot(): SessionSnapshot {
    return {
      setup: { model: MODEL },
      history: [],
      firstTurn: 0,
      userTurns: this.turnsCompleted,
      turnsCompleted: this.turnsCompleted,
      pendingInput: [],
      pendingCalls: [],
    };
  }
}

/** Lets every promise already settled run its callbacks: a point at which to look, not a wait for time. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

async function setUp(transparent = true) {
  const store = new HeldCommits();
  await store.create(
    { id: 's1', principal: 'p', model: MODEL, createdAt: 0, connectedMs: 0, videoSeen: false },
    { seq: 1, setup: { model: MODEL }, turnCount: 0, userTurns: 0, turnsCompleted: 0, pendingInput: [], lastConsumedClientMessageIndex: 0, createdAt: 0 },
  );
  const checkpointer = new Checkpointer(store, 's1', 1, 0, 1);
  const session = new FakeSession();
  const sent: ServerMessage[] = [];
  const closes: CloseSpec[] = [];
  /** The store's newest checkpoint at the moment each handle was issued. */
  const durableAtIssue: number[] = [];
  const resumption = new Resumption({
    session,
    asked: { transparent },
    commit: (snapshot, index, now) => checkpointer.commit(snapshot, index, now),
    issue: ({ sessionId, seq }) => {
      durableAtIssue.push(store.durableSeq);
      return `handle-${sessionId}-${seq}`;
    },
    send: (m) => sent.push(m),
    close: (spec) => closes.push(spec),
    now: () => 1_000,
    log: { debug: () => undefined, error: () => undefined },
  });
  return { store, session, sent, closes, durableAtIssue, resumption };
}

/** Message `index` handled in full (the connection calls the two around session.handle). */
function applied(resumption: Resumption, index: number): void {
  resumption.handling();
  resumption.handled(index);
}

const updates = (sent: ServerMessage[]) =>
  sent.flatMap((m) => ('sessionResumptionUpdate' in m ? [m.sessionResumptionUpdate] : []));

test('no handle leaves before its commit resolves', async () => {
  const { store, sent, resumption } = await setUp();
  applied(resumption, 1);
  resumption.turnCompleted();
  await settle();
  assert.equal(store.held.length, 1, 'the commit started');
  assert.deepEqual(updates(sent), [], 'nothing sent while the commit is held');
  store.held[0]!.release();
  await settle();
  assert.deepEqual(updates(sent), [{ newHandle: 'handle-s1-2', resumable: true, lastConsumedClientMessageIndex: '1' }]);
  assert.equal((await store.get('s1'))?.latestSeq, 2);
});

test('the handle is issued only once the store has its checkpoint', async () => {
  const { store, durableAtIssue, resumption } = await setUp();
  resumption.turnCompleted();
  await settle();
  store.held[0]!.release();
  await settle();
  resumption.turnCompleted();
  await settle();
  store.held[1]!.release();
  await settle();
  assert.deepEqual(durableAtIssue, [2, 3]);
});

test('the index in the update is the one at the snapshot, not a later one', async () => {
  const { store, sent, resumption } = await setUp();
  applied(resumption, 1);
  resumption.turnCompleted();
  applied(resumption, 2);
  applied(resumption, 3);
  await settle();
  assert.equal(store.held[0]!.request.checkpoint.lastConsumedClientMessageIndex, 1);
  store.held[0]!.release();
  await settle();
  assert.equal(updates(sent)[0]?.lastConsumedClientMessageIndex, '1');
  assert.equal(resumption.appliedIndex, 3);
});

test('a turn that ends inside the handling of a message waits until that message is applied', async () => {
  const { store, sent, resumption } = await setUp();
  applied(resumption, 4);
  resumption.handling();
  // The barge-in: message 5 cuts the open turn, whose turnComplete goes out now.
  resumption.turnCompleted();
  await settle();
  assert.equal(store.held.length, 0, 'no commit inside the handling');
  resumption.handled(5);
  await settle();
  assert.equal(store.held.length, 1);
  assert.equal(store.held[0]!.request.checkpoint.lastConsumedClientMessageIndex, 5);
  store.held[0]!.release();
  await settle();
  assert.equal(updates(sent)[0]?.lastConsumedClientMessageIndex, '5');
});

test('not transparent: the update carries no index', async () => {
  const { store, sent, resumption } = await setUp(false);
  applied(resumption, 1);
  resumption.turnCompleted();
  await settle();
  store.held[0]!.release();
  await settle();
  assert.deepEqual(updates(sent), [{ newHandle: 'handle-s1-2', resumable: true }]);
});

test('not resumable now: an update without a handle, and no commit', async () => {
  const { store, session, sent, resumption } = await setUp();
  session.resumable = false;
  resumption.turnCompleted();
  await settle();
  assert.equal(store.held.length, 0);
  assert.deepEqual(updates(sent), [{}], 'resumable omitted: false');
});

test('a fenced commit closes 1008 takenOver and sends no handle', async () => {
  const { store, sent, closes, resumption } = await setUp();
  resumption.turnCompleted();
  await settle();
  // Another connection resumed the session meanwhile: the held commit's lease token is stale.
  await store.acquireLease('s1');
  store.held[0]!.release();
  await settle();
  assert.deepEqual(closes, [CloseReasons.takenOver]);
  assert.deepEqual(updates(sent), []);
});

test('after a failed commit: closed 1011, and later turns send nothing', async () => {
  const { store, sent, closes, resumption } = await setUp();
  resumption.turnCompleted();
  await settle();
  store.held[0]!.fail(new Error('disk full'));
  await settle();
  assert.deepEqual(closes, [CloseReasons.internal]);
  applied(resumption, 1);
  resumption.turnCompleted();
  await settle();
  assert.equal(store.held.length, 1, 'no second commit');
  assert.deepEqual(updates(sent), []);
  assert.equal(closes.length, 1);
});

test('after stop(): a commit that resolves sends nothing', async () => {
  const { store, sent, closes, resumption } = await setUp();
  resumption.turnCompleted();
  await settle();
  resumption.stop();
  store.held[0]!.release();
  await settle();
  assert.deepEqual(updates(sent), []);
  assert.deepEqual(closes, []);
});
