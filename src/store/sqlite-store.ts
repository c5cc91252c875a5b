/**
 * SessionStore on one SQLite file (better-sqlite3, WAL mode), the default store. Several processes
 * may open the same file: every write is a short IMMEDIATE transaction fenced by the lease token.
 *
 * The conversation is an append-only log (`turns`, one row per turn) plus `checkpoints` rows that
 * each name a prefix of it by `turn_count`. A commit inserts only the new turns and one checkpoint
 * row, and reads only by primary key, so its cost does not depend on how long the conversation is
 * (invariant 7). `session_values` holds engine state per session (getSessionValue); every delete
 * of a session deletes its rows too.
 *
 * better-sqlite3 is synchronous: each method does its work before it returns its promise, so a
 * resolved `commit` means the transaction is on disk.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { ContextTurn } from '../session/context.js';
import type { Checkpoint, CommitRequest, NewSessionRecord, SessionRecord, SessionStore } from '../session/store.js';
import { assertContinues, assertFirstCheckpoint, assertLease } from './store-checks.js';
import { ReliveError } from '../errors.js';

/** The meta row holding the schema version; not writable through setMeta. */
const SCHEMA_VERSION_KEY = 'schema_version';

/** MIGRATIONS[v] takes the schema from version v to v + 1. Append only; never edit a shipped one. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE sessions (
    id               TEXT PRIMARY KEY,
    principal        TEXT NOT NULL,
    model            TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    last_detached_at INTEGER,
    connected_ms     INTEGER NOT NULL,
    video_seen       INTEGER NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('open', 'ended')),
    lease_token      INTEGER NOT NULL,
    latest_seq       INTEGER NOT NULL
  );
  CREATE INDEX sessions_by_created ON sessions (created_at);
  CREATE INDEX sessions_by_detached ON sessions (last_detached_at);
  CREATE TABLE turns (
    session_id TEXT NOT NULL,
    idx        INTEGER NOT NULL,
    json       TEXT NOT NULL,
    PRIMARY KEY (session_id, idx)
  );
  CREATE TABLE checkpoints (
    session_id TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    turn_count INTEGER NOT NULL,
    json       TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
  );
  `,
  `
  ALTER TABLE sessions ADD COLUMN max_seq INTEGER NOT NULL DEFAULT 0;
  UPDATE sessions SET max_seq = latest_seq;
  `,
  // The node holding each session (SessionRecord.holder); NULL for rows written before it existed.
  `
  ALTER TABLE sessions ADD COLUMN holder TEXT;
  `,
  // Engine state kept with a session (getSessionValue), deleted with it.
  `
  CREATE TABLE session_values (
    session_id TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (session_id, key)
  );
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

interface SessionRow {
  id: string;
  principal: string;
  model: string;
  created_at: number;
  last_detached_at: number | null;
  connected_ms: number;
  video_seen: number;
  status: 'open' | 'ended';
  lease_token: number;
  latest_seq: number;
  max_seq: number;
  holder: string | null;
}

interface CheckpointRow {
  seq: number;
  turn_count: number;
  json: string;
}

/** A checkpoint without the two fields that have columns of their own. */
type CheckpointBody = Omit<Checkpoint, 'seq' | 'turnCount'>;

export class SqliteStore implements SessionStore {
  private readonly statements: Statements;
  private readonly commitTx: (request: CommitRequest, turnsJson: readonly string[], bodyJson: string) => void;
  private readonly rewindTx: (sessionId: string, seq: number, leaseToken: number) => { checkpoint: Checkpoint; history: ContextTurn[] } | undefined;
  private readonly fencedUpdateTx: (sessionId: string, leaseToken: number, apply: () => void) => void;
  private readonly loadTx: (sessionId: string, seq: number) => { checkpoint: Checkpoint; history: ContextTurn[] } | undefined;
  private readonly createTx: (record: SessionRow, first: Checkpoint, bodyJson: string) => void;
  private readonly expireTx: (detachedBefore: number) => number;
  private readonly deleteTx: (sessionId: string) => boolean;
  private readonly deleteAllTx: () => number;

  /** Opens (creating it and its directory if needed) the store file at `path`. */
  static open(path: string): SqliteStore {
    mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    try {
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (typeof mode !== 'string' || mode.toLowerCase() !== 'wal') {
        throw new ReliveError('RELIVE_ERR_STORE_UNUSABLE', `${path}: SQLite refused WAL mode (journal_mode is ${String(mode)})`);
      }
      // In WAL mode NORMAL syncs only at WAL checkpoints, so a commit that returned can still be
      // lost on power failure or an OS crash. A handle is sent as soon as commit() resolves and
      // must name a checkpoint that survives (invariant 2), so every commit syncs the WAL: FULL.
      db.pragma('synchronous = FULL');
      // Other processes on the same file hold the write lock only for one short transaction.
      db.pragma('busy_timeout = 5000');
      migrate(db, path);
      return new SqliteStore(db);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  private constructor(private readonly db: Database.Database) {
    const s = (this.statements = prepareStatements(db));

    // Writes run as IMMEDIATE transactions: they take the write lock before their first read, so
    // a second process waits (busy_timeout) instead of failing to upgrade a read snapshot.
    const create = db.transaction((row: SessionRow, first: Checkpoint, bodyJson: string) => {
      if (s.leaseOf.get(row.id)) throw new ReliveError('RELIVE_ERR_SESSION_EXISTS', `session ${row.id} already exists`);
      // A new session starts with no values, whatever a former one of this id left.
      s.deleteValues.run(row.id);
      s.insertSession.run(row);
      s.insertCheckpoint.run(row.id, first.seq, first.turnCount, bodyJson);
    });
    this.createTx = (row, first, bodyJson) => create.immediate(row, first, bodyJson);

    const commit = db.transaction((request: CommitRequest, turnsJson: readonly string[], bodyJson: string) => {
      const { sessionId, checkpoint } = request;
      const session = s.leaseOf.get(sessionId);
      if (!session) throw new ReliveError('RELIVE_ERR_SESSION_NOT_FOUND', `session ${sessionId} does not exist`);
      assertLease(sessionId, session.lease_token, request.leaseToken);
      const latestTurnCount = s.turnCountOf.get(sessionId, session.latest_seq)?.turn_count ?? 0;
      assertContinues(request, session.latest_seq, latestTurnCount, session.max_seq);
      const start = checkpoint.turnCount - turnsJson.length;
      for (let i = 0; i < turnsJson.length; i++) s.insertTurn.run(sessionId, start + i, turnsJson[i]);
      s.insertCheckpoint.run(sessionId, checkpoint.seq, checkpoint.turnCount, bodyJson);
      s.setCommittedSeq.run(checkpoint.seq, checkpoint.seq, sessionId);
    });
    this.commitTx = (request, turnsJson, bodyJson) => commit.immediate(request, turnsJson, bodyJson);

    const rewind = db.transaction((sessionId: string, seq: number, leaseToken: number) => {
      const session = s.leaseOf.get(sessionId);
      if (!session) return undefined;
      assertLease(sessionId, session.lease_token, leaseToken);
      const row = s.getCheckpoint.get(sessionId, seq);
      if (!row) return undefined;
      // Resuming from the newest handle, the usual case, writes nothing: no fsync on that path.
      if (seq !== session.latest_seq) {
        s.deleteCheckpointsAfter.run(sessionId, seq);
        s.deleteTurnsFrom.run(sessionId, row.turn_count);
        s.setLatestSeq.run(seq, sessionId);
      }
      const checkpoint = checkpointFrom(row);
      return { checkpoint, history: this.history(sessionId, checkpoint) };
    });
    this.rewindTx = (sessionId, seq, leaseToken) => rewind.immediate(sessionId, seq, leaseToken);

    const fencedUpdate = db.transaction((sessionId: string, leaseToken: number, apply: () => void) => {
      const session = s.leaseOf.get(sessionId);
      if (!session) throw new ReliveError('RELIVE_ERR_SESSION_NOT_FOUND', `session ${sessionId} does not exist`);
      assertLease(sessionId, session.lease_token, leaseToken);
      apply();
    });
    this.fencedUpdateTx = (sessionId, leaseToken, apply) => fencedUpdate.immediate(sessionId, leaseToken, apply);

    // A read transaction: the checkpoint and its turns come from one snapshot.
    this.loadTx = db.transaction((sessionId: string, seq: number) => {
      const row = s.getCheckpoint.get(sessionId, seq);
      if (!row) return undefined;
      const checkpoint = checkpointFrom(row);
      return { checkpoint, history: this.history(sessionId, checkpoint) };
    });

    const expire = db.transaction((detachedBefore: number) => {
      s.expireTurns.run(detachedBefore);
      s.expireCheckpoints.run(detachedBefore);
      s.expireValues.run(detachedBefore);
      return s.expireSessions.run(detachedBefore).changes;
    });
    this.expireTx = (detachedBefore) => expire.immediate(detachedBefore);

    const deleteOne = db.transaction((sessionId: string) => {
      s.deleteTurns.run(sessionId);
      s.deleteCheckpoints.run(sessionId);
      s.deleteValues.run(sessionId);
      return s.deleteSession.run(sessionId).changes > 0;
    });
    this.deleteTx = (sessionId) => deleteOne.immediate(sessionId);

    const deleteAll = db.transaction(() => {
      s.deleteAllTurns.run();
      s.deleteAllCheckpoints.run();
      s.deleteAllValues.run();
      return s.deleteAllSessions.run().changes;
    });
    this.deleteAllTx = () => deleteAll.immediate();
  }

  async create(record: NewSessionRecord, first: Checkpoint): Promise<void> {
    this.assertOpen();
    assertFirstCheckpoint(record.id, first);
    const row: SessionRow = {
      id: record.id,
      principal: record.principal,
      model: record.model,
      created_at: record.createdAt,
      last_detached_at: null,
      connected_ms: record.connectedMs,
      video_seen: record.videoSeen ? 1 : 0,
      status: 'open',
      lease_token: 1,
      latest_seq: first.seq,
      max_seq: first.seq,
      holder: record.holder ?? null,
    };
    this.createTx(row, first, bodyJsonOf(first));
  }

  async get(sessionId: string): Promise<SessionRecord | undefined> {
    this.assertOpen();
    const row = this.statements.getSession.get(sessionId);
    return row ? recordFrom(row) : undefined;
  }

  async acquireLease(sessionId: string, holder?: string): Promise<number> {
    this.assertOpen();
    const row = this.statements.acquireLease.get(holder ?? null, sessionId);
    if (!row) throw new ReliveError('RELIVE_ERR_SESSION_NOT_FOUND', `session ${sessionId} does not exist`);
    return row.lease_token;
  }

  async commit(request: CommitRequest): Promise<void> {
    this.assertOpen();
    // Serialize before the transaction: the write lock is held only for the inserts.
    const turnsJson = request.newTurns.map((turn) => JSON.stringify(turn));
    this.commitTx(request, turnsJson, bodyJsonOf(request.checkpoint));
  }

  async rewind(sessionId: string, seq: number, leaseToken: number): Promise<{ checkpoint: Checkpoint; history: ContextTurn[] } | undefined> {
    this.assertOpen();
    return this.rewindTx(sessionId, seq, leaseToken);
  }

  async load(sessionId: string, seq: number): Promise<{ checkpoint: Checkpoint; history: ContextTurn[] } | undefined> {
    this.assertOpen();
    return this.loadTx(sessionId, seq);
  }

  async detach(sessionId: string, leaseToken: number, at: number, connectedMsAdded: number, videoSeen: boolean): Promise<void> {
    this.assertOpen();
    this.fencedUpdateTx(sessionId, leaseToken, () => {
      this.statements.detach.run(at, connectedMsAdded, videoSeen ? 1 : 0, sessionId);
    });
  }

  async end(sessionId: string, leaseToken: number, at: number): Promise<void> {
    this.assertOpen();
    // An ended session is over even if its connection's detach never arrives (a crash): dating it
    // here lets expire() remove it like any detached session.
    this.fencedUpdateTx(sessionId, leaseToken, () => {
      this.statements.end.run(at, sessionId);
    });
  }

  async releaseOrphans(at: number): Promise<number> {
    this.assertOpen();
    return this.statements.releaseOrphans.run(at).changes;
  }

  async list(limit: number): Promise<SessionRecord[]> {
    this.assertOpen();
    // LIMIT -1 is SQLite's "no limit", for list(Infinity).
    const rows = Number.isFinite(limit) ? Math.max(0, Math.floor(limit)) : limit > 0 ? -1 : 0;
    return this.statements.list.all(rows).map(recordFrom);
  }

  async expire(detachedBefore: number): Promise<number> {
    this.assertOpen();
    return this.expireTx(detachedBefore);
  }

  async delete(sessionId: string): Promise<boolean> {
    this.assertOpen();
    return this.deleteTx(sessionId);
  }

  async deleteAll(): Promise<number> {
    this.assertOpen();
    return this.deleteAllTx();
  }

  async getSessionValue(sessionId: string, key: string): Promise<string | undefined> {
    this.assertOpen();
    return this.statements.getValue.get(sessionId, key)?.value;
  }

  async setSessionValue(sessionId: string, key: string, value: string | undefined): Promise<void> {
    this.assertOpen();
    // One statement each: the insert writes only while the session row exists.
    if (value === undefined) this.statements.deleteValue.run(sessionId, key);
    else this.statements.setValue.run(sessionId, key, value, sessionId);
  }

  async getMeta(key: string): Promise<string | undefined> {
    this.assertOpen();
    return this.statements.getMeta.get(key)?.value;
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.assertOpen();
    if (key === SCHEMA_VERSION_KEY) throw new ReliveError('RELIVE_ERR_INVALID_OPTION', `meta key ${key} is reserved by the store`);
    this.statements.setMeta.run(key, value);
  }

  async initMeta(key: string, value: string): Promise<string> {
    this.assertOpen();
    if (key === SCHEMA_VERSION_KEY) throw new ReliveError('RELIVE_ERR_INVALID_OPTION', `meta key ${key} is reserved by the store`);
    this.statements.initMeta.run(key, value);
    return this.statements.getMeta.get(key)!.value;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /**
   * better-sqlite3 throws a plain TypeError ("The database connection is not open") on a closed
   * database; callers decide on codes, so the store boundary says it with the code, same text.
   */
  private assertOpen(): void {
    if (!this.db.open) throw new ReliveError('RELIVE_ERR_STORE_CLOSED', 'The database connection is not open');
  }

  private history(sessionId: string, checkpoint: Checkpoint): ContextTurn[] {
    return this.statements.history
      .all(sessionId, checkpoint.firstTurn ?? 0, checkpoint.turnCount)
      .map((row) => JSON.parse(row.json) as ContextTurn);
  }
}

/** Every statement the store runs, prepared once per connection. */
function prepareStatements(db: Database.Database) {
  return {
    insertSession: db.prepare(
      `INSERT INTO sessions (id, principal, model, created_at, last_detached_at, connected_ms, video_seen, status, lease_token, latest_seq, max_seq, holder)
       VALUES (@id, @principal, @model, @created_at, @last_detached_at, @connected_ms, @video_seen, @status, @lease_token, @latest_seq, @max_seq, @holder)`,
    ),
    getSession: db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE id = ?'),
    leaseOf: db.prepare<[string], { lease_token: number; latest_seq: number; max_seq: number }>(
      'SELECT lease_token, latest_seq, max_seq FROM sessions WHERE id = ?',
    ),
    acquireLease: db.prepare<[string | null, string], { lease_token: number }>(
      'UPDATE sessions SET lease_token = lease_token + 1, last_detached_at = NULL, holder = ? WHERE id = ? RETURNING lease_token',
    ),
    setLatestSeq: db.prepare<[number, string]>('UPDATE sessions SET latest_seq = ? WHERE id = ?'),
    setCommittedSeq: db.prepare<[number, number, string]>('UPDATE sessions SET latest_seq = ?, max_seq = max(max_seq, ?) WHERE id = ?'),
    detach: db.prepare<[number, number, number, string]>(
      'UPDATE sessions SET last_detached_at = ?, holder = NULL, connected_ms = connected_ms + ?, video_seen = max(video_seen, ?) WHERE id = ?',
    ),
    end: db.prepare<[number, string]>("UPDATE sessions SET status = 'ended', last_detached_at = ?, holder = NULL WHERE id = ?"),
    releaseOrphans: db.prepare<[number]>('UPDATE sessions SET last_detached_at = ?, holder = NULL WHERE last_detached_at IS NULL'),
    list: db.prepare<[number], SessionRow>('SELECT * FROM sessions ORDER BY created_at DESC, rowid DESC LIMIT ?'),
    insertTurn: db.prepare<[string, number, string]>('INSERT INTO turns (session_id, idx, json) VALUES (?, ?, ?)'),
    history: db.prepare<[string, number, number], { json: string }>(
      'SELECT json FROM turns WHERE session_id = ? AND idx >= ? AND idx < ? ORDER BY idx',
    ),
    deleteTurnsFrom: db.prepare<[string, number]>('DELETE FROM turns WHERE session_id = ? AND idx >= ?'),
    insertCheckpoint: db.prepare<[string, number, number, string]>('INSERT INTO checkpoints (session_id, seq, turn_count, json) VALUES (?, ?, ?, ?)'),
    getCheckpoint: db.prepare<[string, number], CheckpointRow>('SELECT seq, turn_count, json FROM checkpoints WHERE session_id = ? AND seq = ?'),
    turnCountOf: db.prepare<[string, number], { turn_count: number }>('SELECT turn_count FROM checkpoints WHERE session_id = ? AND seq = ?'),
    deleteCheckpointsAfter: db.prepare<[string, number]>('DELETE FROM checkpoints WHERE session_id = ? AND seq > ?'),
    expireTurns: db.prepare<[number]>('DELETE FROM turns WHERE session_id IN (SELECT id FROM sessions WHERE last_detached_at < ?)'),
    expireCheckpoints: db.prepare<[number]>('DELETE FROM checkpoints WHERE session_id IN (SELECT id FROM sessions WHERE last_detached_at < ?)'),
    expireValues: db.prepare<[number]>('DELETE FROM session_values WHERE session_id IN (SELECT id FROM sessions WHERE last_detached_at < ?)'),
    getValue: db.prepare<[string, string], { value: string }>('SELECT value FROM session_values WHERE session_id = ? AND key = ?'),
    setValue: db.prepare<[string, string, string, string]>(
      `INSERT INTO session_values (session_id, key, value) SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM sessions WHERE id = ?)
       ON CONFLICT (session_id, key) DO UPDATE SET value = excluded.value`,
    ),
    deleteValue: db.prepare<[string, string]>('DELETE FROM session_values WHERE session_id = ? AND key = ?'),
    deleteValues: db.prepare<[string]>('DELETE FROM session_values WHERE session_id = ?'),
    expireSessions: db.prepare<[number]>('DELETE FROM sessions WHERE last_detached_at < ?'),
    deleteTurns: db.prepare<[string]>('DELETE FROM turns WHERE session_id = ?'),
    deleteCheckpoints: db.prepare<[string]>('DELETE FROM checkpoints WHERE session_id = ?'),
    deleteSession: db.prepare<[string]>('DELETE FROM sessions WHERE id = ?'),
    deleteAllTurns: db.prepare<[]>('DELETE FROM turns'),
    deleteAllCheckpoints: db.prepare<[]>('DELETE FROM checkpoints'),
    deleteAllValues: db.prepare<[]>('DELETE FROM session_values'),
    deleteAllSessions: db.prepare<[]>('DELETE FROM sessions'),
    getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
    initMeta: db.prepare<[string, string]>('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING'),
    setMeta: db.prepare<[string, string]>('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

/**
 * Brings the file's schema to SCHEMA_VERSION in one transaction. A file written by a newer relive
 * is refused rather than misread.
 */
function migrate(db: Database.Database, path: string): void {
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    const row = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?').get(SCHEMA_VERSION_KEY);
    const version = row ? Number(row.value) : 0;
    if (!Number.isInteger(version) || version < 0) throw new ReliveError('RELIVE_ERR_STORE_UNUSABLE', `${path}: unreadable schema version ${row?.value}`);
    if (version > SCHEMA_VERSION) {
      throw new ReliveError('RELIVE_ERR_STORE_UNUSABLE', `${path}: schema version ${version} is newer than this relive supports (${SCHEMA_VERSION}); upgrade relive`);
    }
    if (version === SCHEMA_VERSION) return;
    for (let v = version; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(
      SCHEMA_VERSION_KEY,
      String(SCHEMA_VERSION),
    );
  }).immediate();
}

function bodyJsonOf(checkpoint: Checkpoint): string {
  const { seq: _seq, turnCount: _turnCount, ...body } = checkpoint;
  return JSON.stringify(body satisfies CheckpointBody);
}

function checkpointFrom(row: CheckpointRow): Checkpoint {
  return { ...(JSON.parse(row.json) as CheckpointBody), seq: row.seq, turnCount: row.turn_count };
}

function recordFrom(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    principal: row.principal,
    model: row.model,
    createdAt: row.created_at,
    lastDetachedAt: row.last_detached_at ?? undefined,
    holder: row.holder ?? undefined,
    connectedMs: row.connected_ms,
    videoSeen: row.video_seen !== 0,
    status: row.status,
    leaseToken: row.lease_token,
    latestSeq: row.latest_seq,
    maxSeq: row.max_seq,
  };
}
