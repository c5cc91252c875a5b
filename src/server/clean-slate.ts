/**
 * Deleting sessions through the control API: one (DELETE /relive/v1/sessions/{id}) or everything
 * (POST /relive/v1:reset). A session's live connection is closed first and its last store write
 * awaited, so nothing of it is written after the delete.
 */
import { CloseReasons } from '../protocol/close-codes.js';
import type { ServerContext } from './context.js';

/**
 * The close a deleted session's connection gets: the one a resume of it gets from then on, which
 * clients (relive-gemini/client among them) read as "this session is gone, start a new one".
 */
export const DELETED_CLOSE = CloseReasons.sessionNotFound;

export interface DeleteOutcome {
  /** The session existed (live here, or in the store). */
  readonly found: boolean;
  /** A live connection of the session was closed: on this node, or `node`'s. */
  readonly closedConnection: boolean;
  readonly node?: string;
}

export async function deleteSession(ctx: ServerContext, id: string): Promise<DeleteOutcome> {
  const entry = ctx.registry.get(id);
  let closedConnection = false;
  let node: string | undefined;
  if (entry) {
    await entry.connection.closeAndSettle(DELETED_CLOSE, 'session deleted through the control API');
    closedConnection = true;
  } else {
    const holder = (await ctx.store.get(id))?.holder;
    if (holder !== undefined && holder !== ctx.nodeId && ctx.cluster) {
      // Held on another node: it closes its connection, as for :close; the delete stands either way.
      node = holder;
      closedConnection = (await ctx.cluster.requestAction(id, holder, { type: 'close', ...DELETED_CLOSE })) === 'yielded';
    }
  }
  const deleted = await ctx.store.delete(id);
  return { found: deleted || closedConnection, closedConnection, ...(node !== undefined ? { node } : {}) };
}

export interface ResetOutcome {
  readonly sessions: number;
  readonly connections: number;
  readonly faults: number;
}

/**
 * Back to an empty server: fault rules removed (first, so that none strikes during the closes),
 * every open connection of this node closed, connections other nodes hold for sessions of a shared
 * store closed by them, every session deleted from the store.
 */
export async function resetServer(ctx: ServerContext): Promise<ResetOutcome> {
  const faults = ctx.faults.remove(undefined);
  const open = [...ctx.connections];
  await Promise.all(open.map((c) => c.closeAndSettle(DELETED_CLOSE, 'server reset through the control API')));
  if (ctx.cluster) {
    const cluster = ctx.cluster;
    const remote = (await ctx.store.list(Infinity)).filter((r) => r.status === 'open' && r.holder !== undefined && r.holder !== ctx.nodeId);
    await Promise.all(remote.map((r) => cluster.requestAction(r.id, r.holder!, { type: 'close', ...DELETED_CLOSE }).catch(() => undefined)));
  }
  const sessions = await ctx.store.deleteAll();
  return { sessions, connections: open.length, faults };
}
