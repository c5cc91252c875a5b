/**
 * Where the cluster lives in Redis, beside the store's `relive:{<id>}:…` session keys. Channels are
 * not keys: SCAN over `relive:node:*` finds presence keys only.
 */

const NODE_PREFIX = 'relive:node:';

/** The node's presence (JSON, short TTL renewed by its heartbeat): gone means the node is dead. */
export function presenceKey(nodeId: string): string {
  return `${NODE_PREFIX}${nodeId}`;
}

export const PRESENCE_PATTERN = `${NODE_PREFIX}*`;

/** The node id of a presence key, or undefined for another key under the prefix. */
export function nodeIdOfPresenceKey(key: string): string | undefined {
  if (!key.startsWith(NODE_PREFIX)) return undefined;
  const id = key.slice(NODE_PREFIX.length);
  return id === '' || id.includes(':') ? undefined : id;
}

/** Another node asks this one to let a session go. */
export function takeoverChannel(nodeId: string): string {
  return `${NODE_PREFIX}${nodeId}:takeover`;
}

/** Answers to this node's takeover requests. */
export function yieldedChannel(nodeId: string): string {
  return `${NODE_PREFIX}${nodeId}:yielded`;
}
