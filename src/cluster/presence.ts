/** What a node's presence key holds, and reading every live node's. */
import type { Redis } from 'ioredis';
import { nodeIdOfPresenceKey, PRESENCE_PATTERN } from './keys.js';

export interface NodePresence {
  readonly id: string;
  /** The address the node serves on, once it listens. */
  readonly url: string | undefined;
  /** Wall-clock ISO time the node started. */
  readonly startedAt: string;
  /** Sessions attached to a connection of that node at its last heartbeat. */
  readonly liveSessions: number;
}

export function parsePresence(id: string, json: string | null): NodePresence | undefined {
  if (json === null) return undefined;
  try {
    const value = JSON.parse(json) as Partial<NodePresence>;
    return {
      id,
      url: typeof value.url === 'string' ? value.url : undefined,
      startedAt: typeof value.startedAt === 'string' ? value.startedAt : '',
      liveSessions: typeof value.liveSessions === 'number' ? value.liveSessions : 0,
    };
  } catch {
    // A key whose value we cannot read is still a live node.
    return { id, url: undefined, startedAt: '', liveSessions: 0 };
  }
}

/** Every node whose presence key exists now, sorted by id. SCAN, not KEYS: it never blocks Redis. */
export async function readLiveNodes(redis: Redis): Promise<NodePresence[]> {
  const keys = new Set<string>();
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', PRESENCE_PATTERN, 'COUNT', 200);
    cursor = next;
    for (const key of batch) if (nodeIdOfPresenceKey(key) !== undefined) keys.add(key);
  } while (cursor !== '0');
  if (keys.size === 0) return [];
  const ordered = [...keys].sort();
  const values = await redis.mget(...ordered);
  const out: NodePresence[] = [];
  ordered.forEach((key, i) => {
    // A key that expired between SCAN and MGET is a node that just died.
    const presence = parsePresence(nodeIdOfPresenceKey(key)!, values[i] ?? null);
    if (presence) out.push(presence);
  });
  return out;
}
