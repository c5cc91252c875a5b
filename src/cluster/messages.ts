/**
 * What nodes say to each other over pub/sub. Parsed defensively: a message from another version,
 * or garbage published by hand, is dropped, never thrown.
 */

/** "Let `sessionId` go, then answer on `from`'s yielded channel with `requestId`." */
export interface TakeoverRequest {
  readonly requestId: string;
  readonly sessionId: string;
  readonly from: string;
}

/** The answer: `yielded` false when the session had no connection on the asked node. */
export interface YieldedReply {
  readonly requestId: string;
  readonly sessionId: string;
  readonly yielded: boolean;
}

export function parseTakeoverRequest(text: string): TakeoverRequest | undefined {
  const value = parseObject(text);
  if (!value) return undefined;
  const { requestId, sessionId, from } = value;
  return typeof requestId === 'string' && typeof sessionId === 'string' && typeof from === 'string' ? { requestId, sessionId, from } : undefined;
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
