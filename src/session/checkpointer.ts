/**
 * Commits a session's checkpoints to the store, in order, writing only the turns added since the
 * last commit. The snapshot is taken by the caller at the resumable moment; the write may finish
 * later, and only then may its handle be sent (invariant 2).
 */
import type { SessionSnapshot } from './live-session.js';
import type { Checkpoint, SessionStore } from './store.js';

export class Checkpointer {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: SessionStore,
    readonly sessionId: string,
    readonly leaseToken: number,
    /** Turns of the history already in the store's log. */
    private persistedTurns: number,
    /** The newest checkpoint's sequence number. */
    private seq: number,
  ) {}

  get latestSeq(): number {
    return this.seq;
  }

  /**
   * Records `snapshot` as the next checkpoint. Everything is read now, synchronously; the write is
   * queued behind earlier ones. Resolves with the checkpoint's seq once it is durable.
   */
  commit(snapshot: SessionSnapshot, lastConsumedClientMessageIndex: number, now: number): Promise<number> {
    // The history holds the log's turns from firstTurn on; compression may have dropped turns that
    // were never committed, and those are simply skipped.
    const turnCount = snapshot.firstTurn + snapshot.history.length;
    const newTurns = snapshot.history.slice(Math.max(0, this.persistedTurns - snapshot.firstTurn));
    const seq = ++this.seq;
    const checkpoint: Checkpoint = {
      seq,
      setup: snapshot.setup,
      turnCount,
      ...(snapshot.firstTurn > 0 ? { firstTurn: snapshot.firstTurn } : {}),
      userTurns: snapshot.userTurns,
      turnsCompleted: snapshot.turnsCompleted,
      pendingInput: snapshot.pendingInput,
      pendingCalls: snapshot.pendingCalls,
      lastConsumedClientMessageIndex,
      createdAt: now,
    };
    this.persistedTurns = turnCount;
    const write = this.chain.then(() =>
      this.store.commit({ sessionId: this.sessionId, leaseToken: this.leaseToken, newTurns, checkpoint }),
    );
    // A failed write fails every later one too: the store no longer matches what we would append to.
    this.chain = write;
    return write.then(() => seq);
  }

  /** Resolves when every queued write has finished (or failed). */
  settled(): Promise<void> {
    return this.chain.then(
      () => undefined,
      () => undefined,
    );
  }
}
