/**
 * The rules both SessionStore implementations enforce before they write anything, so a rejected
 * write leaves the store exactly as it was.
 */
import { FencedError, type Checkpoint, type CommitRequest } from '../session/store.js';
import { ReliveError } from '../errors.js';

/** Throws FencedError when a lease newer than `leaseToken` has been taken. */
export function assertLease(sessionId: string, storedToken: number, leaseToken: number): void {
  if (storedToken > leaseToken) throw new FencedError(sessionId);
}

/**
 * The first checkpoint is seq 1 with an empty history: `create` has no turns to store, so a
 * turnCount above 0 would name log entries that do not exist.
 */
export function assertFirstCheckpoint(sessionId: string, first: Checkpoint): void {
  if (first.seq !== 1 || first.turnCount !== 0) {
    throw new ReliveError('RELIVE_ERR_CHECKPOINT_ORDER', `session ${sessionId}: the first checkpoint must have seq 1 and turnCount 0 (got seq ${first.seq}, turnCount ${first.turnCount})`);
  }
}

/**
 * A commit names a newer checkpoint, and its new turns start where the newest checkpoint's history
 * ends: the log is never overwritten. The one gap allowed is of turns compression dropped before
 * they were ever committed: then the new turns start exactly at the checkpoint's firstTurn.
 */
export function assertContinues(request: CommitRequest, latestSeq: number, latestTurnCount: number, maxSeq: number): void {
  const { sessionId, checkpoint, newTurns } = request;
  // Above every number ever used, not only the newest: after a rewind, a number of a discarded
  // checkpoint may still be in a client's handle.
  if (checkpoint.seq <= Math.max(latestSeq, maxSeq)) {
    throw new ReliveError('RELIVE_ERR_CHECKPOINT_ORDER', `session ${sessionId}: checkpoint ${checkpoint.seq} is not newer than checkpoint ${Math.max(latestSeq, maxSeq)}`);
  }
  const start = checkpoint.turnCount - newTurns.length;
  const droppedGap = start > latestTurnCount && start === (checkpoint.firstTurn ?? 0);
  if (start !== latestTurnCount && !droppedGap) {
    throw new ReliveError(
      'RELIVE_ERR_CHECKPOINT_ORDER',
      `session ${sessionId}: ${newTurns.length} new turns for turnCount ${checkpoint.turnCount} would start at ${start}, but the log holds ${latestTurnCount}`,
    );
  }
}
