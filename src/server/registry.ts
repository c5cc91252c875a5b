/**
 * Sessions this process knows, live and recently ended, for routing control requests. Ended
 * sessions are kept (up to a bound) so a test can inspect a conversation after its socket closed.
 */
import type { LiveSession } from '../session/live-session.js';
import type { SessionId } from '../session/ids.js';
import type { Connection } from './connection.js';

export interface SessionEntry {
  readonly session: LiveSession;
  connection: Connection | undefined;
  endedAt?: number;
}

export class SessionRegistry {
  private readonly entries = new Map<SessionId, SessionEntry>();
  /** Ended sessions, oldest first: eviction never walks past live ones. */
  private readonly ended: SessionId[] = [];
  private endedHead = 0;

  constructor(private readonly endedKept: number) {}

  add(session: LiveSession, connection: Connection): void {
    this.entries.set(session.id, { session, connection });
  }

  get(id: string): SessionEntry | undefined {
    return this.entries.get(id as SessionId);
  }

  list(): SessionEntry[] {
    return [...this.entries.values()];
  }

  get liveCount(): number {
    return this.entries.size - (this.ended.length - this.endedHead);
  }

  markEnded(id: SessionId, at: number): void {
    const entry = this.entries.get(id);
    if (!entry || entry.endedAt !== undefined) return;
    entry.endedAt = at;
    entry.connection = undefined;
    this.ended.push(id);
    while (this.ended.length - this.endedHead > this.endedKept) {
      this.entries.delete(this.ended[this.endedHead++]!);
    }
    // Compact now and then so the queue's dead prefix does not grow without bound.
    if (this.endedHead > 1024 && this.endedHead * 2 > this.ended.length) {
      this.ended.splice(0, this.endedHead);
      this.endedHead = 0;
    }
  }
}
