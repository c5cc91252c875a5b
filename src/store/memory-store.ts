/**
 * SessionStore in process memory, for tests and `--store memory`. Nothing survives a restart.
 *
 * Values are deep-copied on the way in and on the way out (structuredClone), so a caller that keeps
 * mutating its own objects, or the objects it was handed, cannot change what is stored. The rules
 * (fencing, log continuity, all-or-nothing) are the same as SqliteStore's: every check runs before
 * the first mutation.
 */
import type { ContextTurn } from '../session/context.js';
import type { Checkpoint, CommitRequest, NewSessionRecord, SessionRecord, SessionStore } from '../session/store.js';
import { assertContinues, assertFirstCheckpoint, assertLease } from './store-checks.js';
import { ReliveError } from '../errors.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface Entry {
  record: Mutable<SessionRecord>;
  /** Creation order, to break createdAt ties in `list` the way SQLite's rowid does. */
  readonly order: number;
  /** The append-only log; its length is always the newest checkpoint's turnCount. */
  readonly turns: ContextTurn[];
  readonly checkpoints: Map<number, Checkpoint>;
  /** Engine state of the session (getSessionValue): dropped with the entry. */
  readonly values: Map<string, string>;
}

export class MemoryStore implements SessionStore {
  private readonly sessions = new Map<string, Entry>();
  private readonly meta = new Map<string, string>();
  private created = 0;
  private closed = false;

  async create(record: NewSessionRecord, first: Checkpoint): Promise<void> {
    this.assertOpen();
    if (this.sessions.has(record.id)) throw new ReliveError('RELIVE_ERR_SESSION_EXISTS', `session ${record.id} already exists`);
    assertFirstCheckpoint(record.id, first);
    const stored: SessionRecord = {
      id: record.id,
      principal: record.principal,
      model: record.model,
      createdAt: record.createdAt,
      lastDetachedAt: undefined,
      holder: record.holder,
      connectedMs: record.connectedMs,
      videoSeen: record.videoSeen,
      status: 'open',
      leaseToken: 1,
      latestSeq: first.seq,
      maxSeq: first.seq,
    };
    this.sessions.set(record.id, {
      record: stored,
      order: this.created++,
      turns: [],
      checkpoints: new Map([[first.seq, structuredClone(first)]]),
      values: new Map(),
    });
  }

  async get(sessionId: string): Promise<SessionRecord | undefined> {
    this.assertOpen();
    const entry = this.sessions.get(sessionId);
    return entry ? { ...entry.record } : undefined;
  }

  async acquireLease(sessionId: string, holder?: string): Promise<number> {
    const entry = this.entry(sessionId);
    entry.record.leaseToken += 1;
    entry.record.lastDetachedAt = undefined;
    entry.record.holder = holder;
    return entry.record.leaseToken;
  }

  async commit(request: CommitRequest): Promise<void> {
    const entry = this.entry(request.sessionId);
    assertLease(request.sessionId, entry.record.leaseToken, request.leaseToken);
    const latest = entry.checkpoints.get(entry.record.latestSeq);
    assertContinues(request, entry.record.latestSeq, latest?.turnCount ?? 0, entry.record.maxSeq);
    // Copy first: a value that cannot be cloned fails here, before anything changed.
    const turns = structuredClone(request.newTurns) as ContextTurn[];
    const checkpoint = structuredClone(request.checkpoint);
    const start = checkpoint.turnCount - turns.length;
    // Index assignment: a gap of turns dropped before they were committed stays a hole.
    for (let i = 0; i < turns.length; i++) entry.turns[start + i] = turns[i]!;
    entry.checkpoints.set(checkpoint.seq, checkpoint);
    entry.record.latestSeq = checkpoint.seq;
    entry.record.maxSeq = Math.max(entry.record.maxSeq, checkpoint.seq);
  }

  async rewind(sessionId: string, seq: number, leaseToken: number): Promise<{ checkpoint: Checkpoint; history: ContextTurn[] } | undefined> {
    this.assertOpen();
    const entry = this.sessions.get(sessionId);
    if (!entry) return undefined;
    assertLease(sessionId, entry.record.leaseToken, leaseToken);
    const checkpoint = entry.checkpoints.get(seq);
    if (!checkpoint) return undefined;
    for (const later of entry.checkpoints.keys()) if (later > seq) entry.checkpoints.delete(later);
    entry.turns.length = checkpoint.turnCount;
    entry.record.latestSeq = seq;
    return { checkpoint: structuredClone(checkpoint), history: structuredClone(entry.turns.slice(checkpoint.firstTurn ?? 0)) };
  }

  async load(sessionId: string, seq: number): Promise<{ checkpoint: Checkpoint; history: ContextTurn[] } | undefined> {
    this.assertOpen();
    const entry = this.sessions.get(sessionId);
    const checkpoint = entry?.checkpoints.get(seq);
    if (!entry || !checkpoint) return undefined;
    return { checkpoint: structuredClone(checkpoint), history: structuredClone(entry.turns.slice(checkpoint.firstTurn ?? 0, checkpoint.turnCount)) };
  }

  async detach(sessionId: string, leaseToken: number, at: number, connectedMsAdded: number, videoSeen: boolean): Promise<void> {
    const entry = this.entry(sessionId);
    assertLease(sessionId, entry.record.leaseToken, leaseToken);
    entry.record.lastDetachedAt = at;
    entry.record.holder = undefined;
    entry.record.connectedMs += connectedMsAdded;
    entry.record.videoSeen ||= videoSeen;
  }

  async end(sessionId: string, leaseToken: number, at: number): Promise<void> {
    const entry = this.entry(sessionId);
    assertLease(sessionId, entry.record.leaseToken, leaseToken);
    entry.record.status = 'ended';
    // An ended session is over even if its connection's detach never arrives (a crash): dating it
    // here lets expire() remove it like any detached session.
    entry.record.lastDetachedAt = at;
    entry.record.holder = undefined;
  }

  async releaseOrphans(at: number): Promise<number> {
    this.assertOpen();
    let released = 0;
    for (const { record } of this.sessions.values()) {
      if (record.lastDetachedAt === undefined) {
        record.lastDetachedAt = at;
        record.holder = undefined;
        released++;
      }
    }
    return released;
  }

  async list(limit: number): Promise<SessionRecord[]> {
    this.assertOpen();
    return [...this.sessions.values()]
      .sort((a, b) => b.record.createdAt - a.record.createdAt || b.order - a.order)
      .slice(0, Math.max(0, limit))
      .map((e) => ({ ...e.record }));
  }

  async expire(detachedBefore: number): Promise<number> {
    this.assertOpen();
    let removed = 0;
    for (const [id, entry] of this.sessions) {
      const detached = entry.record.lastDetachedAt;
      if (detached !== undefined && detached < detachedBefore) {
        this.sessions.delete(id);
        removed++;
      }
    }
    return removed;
  }

  async delete(sessionId: string): Promise<boolean> {
    this.assertOpen();
    return this.sessions.delete(sessionId);
  }

  async deleteAll(): Promise<number> {
    this.assertOpen();
    const removed = this.sessions.size;
    this.sessions.clear();
    return removed;
  }

  async getSessionValue(sessionId: string, key: string): Promise<string | undefined> {
    this.assertOpen();
    return this.sessions.get(sessionId)?.values.get(key);
  }

  async setSessionValue(sessionId: string, key: string, value: string | undefined): Promise<void> {
    this.assertOpen();
    const values = this.sessions.get(sessionId)?.values;
    if (!values) return;
    if (value === undefined) values.delete(key);
    else values.set(key, value);
  }

  async getMeta(key: string): Promise<string | undefined> {
    this.assertOpen();
    return this.meta.get(key);
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.assertOpen();
    this.meta.set(key, value);
  }

  async initMeta(key: string, value: string): Promise<string> {
    this.assertOpen();
    if (!this.meta.has(key)) this.meta.set(key, value);
    return this.meta.get(key)!;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private entry(sessionId: string): Entry {
    this.assertOpen();
    const entry = this.sessions.get(sessionId);
    if (!entry) throw new ReliveError('RELIVE_ERR_SESSION_NOT_FOUND', `session ${sessionId} does not exist`);
    return entry;
  }

  private assertOpen(): void {
    if (this.closed) throw new ReliveError('RELIVE_ERR_STORE_CLOSED', 'the store is closed');
  }
}
