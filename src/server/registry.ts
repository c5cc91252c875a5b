/**
 * Sessions attached to a connection of this process, for takeover and for the control API. The
 * store knows every session; this knows which are live here and on which connection.
 */
import type { LiveSession } from '../session/live-session.js';
import type { AttachedConnection } from './attached-connection.js';

export type { AttachedConnection } from './attached-connection.js';

export interface SessionEntry {
  readonly session: LiveSession;
  readonly connection: AttachedConnection;
}

export class SessionRegistry {
  private readonly entries = new Map<string, SessionEntry>();

  attach(session: LiveSession, connection: AttachedConnection): void {
    this.entries.set(session.id, { session, connection });
  }

  /** Removes the entry only if it is still this connection's: a takeover may have replaced it. */
  detach(session: LiveSession, connection: AttachedConnection): void {
    if (this.entries.get(session.id)?.connection === connection) this.entries.delete(session.id);
  }

  get(id: string): SessionEntry | undefined {
    return this.entries.get(id);
  }

  list(): SessionEntry[] {
    return [...this.entries.values()];
  }

  get liveCount(): number {
    return this.entries.size;
  }
}
