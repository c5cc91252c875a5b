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
  private endedCount = 0;

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
    return this.entries.size - this.endedCount;
  }

  markEnded(id: SessionId, at: number): void {
    const entry = this.entries.get(id);
    if (!entry || entry.endedAt !== undefined) return;
    entry.endedAt = at;
    entry.connection = undefined;
    this.endedCount++;
    // Map iteration is insertion order, so the first ended entries found are the oldest.
    if (this.endedCount > this.endedKept) {
      for (const [key, e] of this.entries) {
        if (e.endedAt === undefined) continue;
        this.entries.delete(key);
        this.endedCount--;
        if (this.endedCount <= this.endedKept) break;
      }
    }
  }
}
