/**
 * The two ways a `setup` opens a session: a new one, stored with its first checkpoint, or a
 * resumed one, restored from the checkpoint its handle names (PROTOCOL.md §5.3). Either way the
 * result is a session with a lease on it; every refusal is the close the real service sends.
 */
import { CloseReasons, type CloseSpec } from '../protocol/close-codes.js';
import type { SessionConfig } from '../session/config.js';
import { Checkpointer } from '../session/checkpointer.js';
import { newSessionId, type SessionId } from '../session/ids.js';
import { LiveSession, type LiveSessionDeps } from '../session/live-session.js';
import type { ServerContext } from './context.js';
import { wedgedEngine } from '../engine/wedged-engine.js';

export interface OpenedSession {
  readonly session: LiveSession;
  readonly checkpointer: Checkpointer;
  /** Connected time of earlier connections, for the session lifetime. */
  readonly connectedMsBefore: number;
  readonly videoSeen: boolean;
  /** The checkpoint the first resumption update names. */
  readonly seq: number;
  readonly resumed: boolean;
}

export type OpenResult = { ok: true; opened: OpenedSession } | { ok: false; close: CloseSpec; detail: string };

/** Someone holding the session now, who must let go before it is resumed elsewhere. */
export interface Holder {
  /** Closes the holder's connection (1008, "Session resumed on another connection.") and resolves once its last write is done. */
  yieldSession(): Promise<void>;
}

/** What opening a session uses of the server. */
export type OpeningContext = Pick<ServerContext, 'clock' | 'store' | 'nodeId' | 'handles' | 'faults' | 'lifetimes' | 'strict' | 'cluster' | 'log'>;

const notFound = (detail: string): OpenResult => ({ ok: false, close: CloseReasons.sessionNotFound, detail });

export async function createSession(ctx: Pick<OpeningContext, 'clock' | 'store' | 'nodeId'>, config: SessionConfig, principal: string, deps: LiveSessionDeps): Promise<OpenResult> {
  const id = newSessionId();
  const now = ctx.clock.now();
  await ctx.store.create(
    { id, principal, model: config.model, createdAt: now, connectedMs: 0, videoSeen: false, holder: ctx.nodeId },
    { seq: 1, setup: config.setup, turnCount: 0, userTurns: 0, turnsCompleted: 0, pendingInput: [], lastConsumedClientMessageIndex: 0, createdAt: now },
  );
  // Created at the moment the store records, so the control API shows one time wherever it is asked.
  const session = new LiveSession(id, config, deps, { history: [], firstTurn: 0, userTurns: 0, turnsCompleted: 0, pendingInput: [], pendingCalls: [], createdAt: now });
  return {
    ok: true,
    opened: { session, checkpointer: new Checkpointer(ctx.store, id, 1, 0, 1), connectedMsBefore: 0, videoSeen: false, seq: 1, resumed: false },
  };
}

export async function resumeSession(
  ctx: OpeningContext,
  handle: string,
  config: SessionConfig,
  principal: string,
  deps: LiveSessionDeps,
  holder: (id: string) => Holder | undefined,
): Promise<OpenResult> {
  const target = ctx.handles.verify(handle, principal);
  if (!target) return notFound('handle forged, garbled or of another principal');
  const fault = ctx.faults.empty ? undefined : ctx.faults.strike('resume', { session: target.sessionId, principal, model: config.model, messageType: 'setup' });
  if (fault?.type === 'refuseResume') return notFound('injected fault: resume refused');
  // A poisoned handle: everything works except the model, which never answers again.
  if (fault?.type === 'poisonHandle') deps = { ...deps, engine: wedgedEngine };
  const record = await ctx.store.get(target.sessionId);
  if (!record || record.status === 'ended') return notFound('session unknown or ended');
  const now = ctx.clock.now();
  if (record.lastDetachedAt !== undefined && now - record.lastDetachedAt > ctx.lifetimes.handleTtlMs) {
    return notFound('handle expired');
  }
  if (target.seq > record.latestSeq) return notFound('checkpoint no longer exists');
  if (record.model !== config.model) {
    return { ok: false, close: CloseReasons.invalidArgument, detail: `resume with model ${config.model}, session has ${record.model}` };
  }
  const current = holder(record.id);
  if (current) {
    // The real service rejects; relive hands over by default (LiveKit reconnects before its old socket closes).
    if (ctx.strict) return { ok: false, close: CloseReasons.internal, detail: 'session held by another connection (strict: reject)' };
    await current.yieldSession();
  } else if (record.holder !== undefined && record.holder !== ctx.nodeId && ctx.cluster) {
    // Held by a connection on another node: the same rules, over pub/sub.
    const remote = record.holder;
    if (ctx.strict) {
      // A dead node's session is free: its connection died with it.
      if (await ctx.cluster.isLive(remote)) {
        return { ok: false, close: CloseReasons.internal, detail: `session held by a connection on node ${remote} (strict: reject)` };
      }
    } else {
      const outcome = await ctx.cluster.requestTakeover(record.id, remote);
      ctx.log.info({ session: record.id, from: remote, outcome }, 'session taken over from another node');
    }
  }
  const token = await ctx.store.acquireLease(record.id, ctx.nodeId);
  const restored = await ctx.store.rewind(record.id, target.seq, token);
  if (!restored) return notFound('checkpoint vanished');
  const { checkpoint } = restored;
  // A session that forgot its conversation: as if compression had dropped every turn, so the
  // store's log and the turn numbers go on where they were and only the context is gone.
  const dropped = fault?.type === 'dropHistoryOnResume';
  const history = dropped ? [] : restored.history;
  const firstTurn = dropped ? checkpoint.turnCount : (checkpoint.firstTurn ?? 0);
  // Read again: a holder that just yielded may have committed one last checkpoint.
  const maxSeq = (await ctx.store.get(record.id))?.maxSeq ?? checkpoint.seq;
  const session = new LiveSession(record.id as SessionId, config, deps, {
    history,
    firstTurn,
    userTurns: checkpoint.userTurns,
    turnsCompleted: checkpoint.turnsCompleted,
    pendingInput: checkpoint.pendingInput,
    pendingCalls: checkpoint.pendingCalls ?? [],
    createdAt: record.createdAt,
  });
  return {
    ok: true,
    opened: {
      session,
      // New checkpoints are numbered above every number ever used, so no old handle can name them.
      checkpointer: new Checkpointer(ctx.store, record.id, token, checkpoint.turnCount, maxSeq),
      connectedMsBefore: record.connectedMs,
      videoSeen: record.videoSeen,
      seq: checkpoint.seq,
      resumed: true,
    },
  };
}
