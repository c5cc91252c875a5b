/**
 * Sessions attached to a connection of this process, for takeover and for the control API. The
 * store knows every session; this knows which are live here and on which connection.
 */
import type { CloseSpec } from '../protocol/close-codes.js';
import type { LiveEndpoint } from '../protocol/endpoint.js';
import type { LiveSession } from '../session/live-session.js';

/**
 * What the registry's users do with a connection (Connection implements it). The registry is part
 * of the published `ReliveServer`, so it names no transport class: ws's types (not a dependency of
 * apps) stay out of the package's declaration files.
 */
export interface AttachedConnection {
  readonly id: string;
  readonly openedAt: number;
  readonly remoteAddress: string | undefined;
  readonly endpoint: LiveEndpoint;
  /** Sends goAway now and closes when timeLeftMs runs out. */
  goAway(timeLeftMs: number): void;
  close(spec: CloseSpec, detail: string): void;
  /** Takeover: closes this connection and resolves once its last write is done. */
  yieldSession(): Promise<void>;
  /** Closes with `spec` and resolves once the session is handed back to the store (a delete waits for it). */
  closeAndSettle(spec: CloseSpec, detail: string): Promise<void>;
}

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
