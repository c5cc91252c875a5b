/**
 * What nodes say to each other over pub/sub. Parsed defensively: a message from another version,
 * or garbage published by hand, is dropped, never thrown.
 */

/**
 * What the control API asks of a session's connection on the node that holds it: the same
 * goAway or close it would give a connection of its own.
 */
export type RemoteAction = { readonly type: 'goAway'; readonly timeLeftMs: number } | { readonly type: 'close'; readonly code: number; readonly reason: string };

/**
 * "Let `sessionId` go (or, with `action`, do that to its connection), then answer on `from`'s
 * yielded channel with `requestId`."
 */
export interface TakeoverRequest {
  readonly requestId: string;
  readonly sessionId: string;
  readonly from: string;
  readonly action?: RemoteAction;
}

/** The answer: `yielded` false when the session had no connection on the asked node (for an action: it was done when true). */
export interface YieldedReply {
  readonly requestId: string;
  readonly sessionId: string;
  readonly yielded: boolean;
}

export function parseTakeoverRequest(text: string): TakeoverRequest | undefined {
  const value = parseObject(text);
  if (!value) return undefined;
  const { requestId, sessionId, from, action } = value;
  if (typeof requestId !== 'string' || typeof sessionId !== 'string' || typeof from !== 'string') return undefined;
  if (action === undefined) return { requestId, sessionId, from };
  const parsed = parseAction(action);
  return parsed ? { requestId, sessionId, from, action: parsed } : undefined;
}

function parseAction(value: unknown): RemoteAction | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const a = value as Record<string, unknown>;
  if (a.type === 'goAway' && typeof a.timeLeftMs === 'number' && Number.isFinite(a.timeLeftMs) && a.timeLeftMs >= 0) return { type: 'goAway', timeLeftMs: a.timeLeftMs };
  if (a.type === 'close' && Number.isInteger(a.code) && typeof a.reason === 'string') return { type: 'close', code: a.code as number, reason: a.reason };
  return undefined;
}

export function parseYieldedReply(text: string): YieldedReply | undefined {
  const value = parseObject(text);
  if (!value) return undefined;
  const { requestId, sessionId, yielded } = value;
  return typeof requestId === 'string' && typeof sessionId === 'string' && typeof yielded === 'boolean' ? { requestId, sessionId, yielded } : undefined;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
