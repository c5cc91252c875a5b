/**
 * `ReliveServer.sessions`: the sessions live on this server, as plain read-only snapshots, and the
 * two things an app or a test does to one (goAway, close). The registry's live objects stay
 * inside the server: a snapshot is a copy, so nothing a caller holds changes under it, and
 * nothing a caller does to it reaches the session.
 */
import type { CloseSpec } from '../protocol/close-codes.js';
import type { ContextTurn } from '../session/context.js';
import type { SessionStatus } from '../session/live-session.js';
import type { SessionEntry, SessionRegistry } from './registry.js';

/** One live session as it was when the snapshot was taken (what the control API shows of it). */
export interface SessionInfo {
  readonly id: string;
  /** The model the setup named, as `models/…` (or `tunedModels/…`). */
  readonly model: string;
  readonly status: SessionStatus;
  /** When the session was created (not this connection), in the server clock's milliseconds. */
  readonly createdAt: number;
  /** Model turns completed (turnComplete sent), over all of the session's connections. */
  readonly turns: number;
  /** The conversation as relive keeps it: a copy. */
  readonly context: readonly ContextTurn[];
  /** The connection the session is attached to. */
  readonly connection: SessionConnectionInfo;
}

export interface SessionConnectionInfo {
  readonly id: string;
  readonly openedAt: number;
  readonly remoteAddress: string | undefined;
  /** The path's version: v1beta, v1alpha, … */
  readonly apiVersion: string;
}

export interface SessionsView {
  /** Every session attached to a connection of this server. */
  list(): SessionInfo[];
  get(id: string): SessionInfo | undefined;
  readonly liveCount: number;
  /**
   * Snapshots of one session, now and later, also after its connection closed and it left this
   * server (then: as it was left, `status` 'ended'). For a test that must see what became of a
   * session it watched. Undefined when the session is not live here now.
   */
  watch(id: string): (() => SessionInfo) | undefined;
  /** Sends goAway now (default: the server's goAway notice) and closes at the deadline. False: not live here. */
  goAway(id: string, timeLeftMs?: number): boolean;
  /** Closes the session's connection with this code and reason. False: not live here. */
  close(id: string, spec: CloseSpec): boolean;
}

export function sessionsView(registry: SessionRegistry, goAwayNoticeMs: number): SessionsView {
  return {
    list: () => registry.list().map(snapshot),
    get(id) {
      const entry = registry.get(id);
      return entry && snapshot(entry);
    },
    get liveCount() {
      return registry.liveCount;
    },
    watch(id) {
      const entry = registry.get(id);
      return entry && (() => snapshot(entry));
    },
    goAway(id, timeLeftMs = goAwayNoticeMs) {
      const entry = registry.get(id);
      entry?.connection.goAway(timeLeftMs);
      return entry !== undefined;
    },
    close(id, spec) {
      const entry = registry.get(id);
      entry?.connection.close(spec, 'closed through ReliveServer.sessions');
      return entry !== undefined;
    },
  };
}

function snapshot({ session, connection }: SessionEntry): SessionInfo {
  return {
    id: session.id,
    model: session.config.model,
    status: session.status,
    createdAt: session.createdAt,
    turns: session.turnsCompleted,
    context: structuredClone(session.history),
    connection: { id: connection.id, openedAt: connection.openedAt, remoteAddress: connection.remoteAddress, apiVersion: connection.endpoint.apiVersion },
  };
}
