/**
 * What the session core needs from durable storage (DESIGN.md "Store"). Async and cluster-ready:
 * every write is fenced by a lease token, so a node or connection that lost the session cannot
 * overwrite it. Implementations: memory (tests), sqlite (default), redis (cluster).
 *
 * The conversation is stored as an append-only log of turns plus checkpoint rows that each name a
 * prefix of the log. A commit writes only the turns added since the previous commit, so its cost
 * does not grow with the length of the conversation (invariant 7).
 */
import type { Setup } from '../protocol/client-schema.js';
import type { ContextPart, ContextTurn } from './context.js';
import { ReliveError } from '../errors.js';

/** Facts about a session that are not part of a checkpoint. */
export interface SessionRecord {
  readonly id: string;
  /** sha256 of the credential that created the session: handles are bound to it. */
  readonly principal: string;
  readonly model: string;
  readonly createdAt: number;
  /** When the last connection of the session ended; undefined while one is attached. */
  readonly lastDetachedAt: number | undefined;
  /**
   * The node whose connection holds the session (the id it gave acquireLease or create), or
   * undefined while detached. Several nodes on one store use it to find whom to ask to let go, and
   * to see which sessions a dead node left attached.
   */
  readonly holder: string | undefined;
  /** Connected time accumulated over all connections, for the session lifetime. */
  readonly connectedMs: number;
  /** Video was received at some point: the shorter session lifetime applies. */
  readonly videoSeen: boolean;
  /** 'ended' sessions (lifetime reached, closed for good) cannot be resumed. */
  readonly status: 'open' | 'ended';
  /** The current lease's fencing token (0 before the first lease). */
  readonly leaseToken: number;
  /** Sequence number of the newest checkpoint. */
  readonly latestSeq: number;
  /**
   * The highest sequence number ever committed. A rewind lowers latestSeq but never this, so a
   * number is never given to two checkpoints: a handle issued before a rewind cannot come to name
   * a different state.
   */
  readonly maxSeq: number;
}

/**
 * What `create` is given: the store sets the lease, the sequence numbers and the status. `holder`
 * names the node of the creating connection (the session starts attached).
 */
export type NewSessionRecord = Omit<SessionRecord, 'leaseToken' | 'latestSeq' | 'maxSeq' | 'lastDetachedAt' | 'status' | 'holder'> & {
  readonly holder?: string;
};

/** The state of a session at a resumable point (idle: nothing generating, no blocking call pending). */
export interface Checkpoint {
  /** 1, 2, 3, … per session; a handle names one. */
  readonly seq: number;
  /** The settings in force (a resume may change all but the model; contextUpdate changes some). */
  readonly setup: Setup;
  /** The history is the log's turns [firstTurn, turnCount). */
  readonly turnCount: number;
  /**
   * Log index where the context begins: turns before it were dropped by context window
   * compression (default 0). Dropped turns that were never committed leave a gap in the log.
   */
  readonly firstTurn?: number;
  readonly userTurns: number;
  readonly turnsCompleted: number;
  /** Realtime input received but not yet part of a turn. */
  readonly pendingInput: readonly ContextPart[];
  /** NON_BLOCKING function calls still unanswered (blocking ones never are at a checkpoint). */
  readonly pendingCalls?: readonly { id: string; name: string; args: Record<string, unknown>; blocking: boolean }[];
  /** Index of the last client message of the connection that committed this checkpoint (PROTOCOL.md §5.4). */
  readonly lastConsumedClientMessageIndex: number;
  readonly createdAt: number;
}

export interface CommitRequest {
  readonly sessionId: string;
  readonly leaseToken: number;
  /** Turns appended since the previous checkpoint: they take positions [checkpoint.turnCount - newTurns.length, checkpoint.turnCount). */
  readonly newTurns: readonly ContextTurn[];
  readonly checkpoint: Checkpoint;
}

/** A write carried a lease token older than the session's current one. */
export class FencedError extends ReliveError {
  constructor(sessionId: string) {
    super('RELIVE_ERR_FENCED', `session ${sessionId}: lease lost to a newer holder`);
    this.name = 'FencedError';
  }
}

export interface SessionStore {
  /** Creates a session with its first checkpoint (seq 1, usually with no turns) and lease token 1. */
  create(record: NewSessionRecord, first: Checkpoint): Promise<void>;

  get(sessionId: string): Promise<SessionRecord | undefined>;

  /**
   * Takes the session's lease: increments and returns the fencing token, and marks the session
   * attached (lastDetachedAt undefined) to `holder` (the taking node's id; undefined when not
   * given). Every later write with an older token fails with FencedError.
   */
  acquireLease(sessionId: string, holder?: string): Promise<number>;

  /**
   * Atomically appends `newTurns` to the log and records the checkpoint as the newest. Fails with
   * FencedError on a stale token. Resolves only once the data is durable.
   */
  commit(request: CommitRequest): Promise<void>;

  /**
   * Makes checkpoint `seq` the newest again: deletes later checkpoints and the log past its
   * `turnCount` (resuming from an older handle loses what came after it, as the Live API says).
   * Returns the checkpoint and its history, or undefined if `seq` does not exist.
   */
  rewind(sessionId: string, seq: number, leaseToken: number): Promise<{ checkpoint: Checkpoint; history: ContextTurn[] } | undefined>;

  /** Reads checkpoint `seq` and its history without changing anything (inspection). */
  load(sessionId: string, seq: number): Promise<{ checkpoint: Checkpoint; history: ContextTurn[] } | undefined>;

  /** Records the end of a connection: detach time and connected time added, holder cleared. Fenced. */
  detach(sessionId: string, leaseToken: number, at: number, connectedMsAdded: number, videoSeen: boolean): Promise<void>;

  /** Marks a session ended for good (lifetime reached), holder cleared. Fenced. */
  end(sessionId: string, leaseToken: number, at: number): Promise<void>;

  /** Sessions, newest first, at most `limit`. */
  list(limit: number): Promise<SessionRecord[]>;

  /**
   * Sessions left attached by a process that died have no detach time, so their handles would
   * never expire. A single node calls this at start: every attached session counts as detached at
   * `at` and its holder is cleared. Never on a store other live nodes share: they would lose their
   * sessions (a cluster releases only the sessions of nodes that died: src/cluster). Returns how
   * many were released.
   */
  releaseOrphans(at: number): Promise<number>;

  /** Deletes sessions detached before `detachedBefore` (their handles have expired). Returns how many. */
  expire(detachedBefore: number): Promise<number>;

  /**
   * Deletes one session now, attached or not, with its log, checkpoints and values (the control
   * API's DELETE): its handles no longer resume. Not fenced: the caller closes the session's
   * connection first. Returns whether the session existed.
   */
  delete(sessionId: string): Promise<boolean>;

  /**
   * Deletes every session the same way (the control API's reset). Meta values (the handle secret)
   * stay. Returns how many sessions were deleted.
   */
  deleteAll(): Promise<number>;

  /**
   * Engine state kept with a session (the gateway's upstream handle), by `key`; undefined when
   * never set, deleted, or when the session does not exist.
   *
   * Not fenced: only the engine of the connection holding the session writes it; the last write
   * wins. Deleted whenever the session is deleted (expire, Redis's TTL, and a create of the same
   * id starts with none), so nothing outlives its session.
   */
  getSessionValue(sessionId: string, key: string): Promise<string | undefined>;
  /**
   * Sets (or with `value` undefined deletes) a value of the session. On a session that does not
   * exist (it may have expired) this does nothing, rather than failing or writing an orphan.
   */
  setSessionValue(sessionId: string, key: string, value: string | undefined): Promise<void>;

  /**
   * A value kept across restarts for the store as a whole (the handle secret). Never deleted: not
   * for anything per session (use setSessionValue).
   */
  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;
  /**
   * Sets `key` to `value` unless it has a value, atomically, and returns the value it has now: the
   * first of several nodes starting together on one store decides (the handle secret).
   */
  initMeta(key: string, value: string): Promise<string>;

  close(): Promise<void>;

  /**
   * Present on a store several relive nodes share through Redis (RedisStore): by default the
   * server joins the other nodes there (ServerOptions.cluster). Absent on a store of one process.
   */
  readonly cluster?: { readonly redisUrl: string };

  /**
   * For a store that deletes a detached session by itself after a while (Redis key TTLs): the
   * server sets that time to its handle validity at listen(), so no handle outlives its session.
   */
  expireDetachedAfter?(ms: number): void;
}
