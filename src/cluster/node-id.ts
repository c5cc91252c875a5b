/**
 * A node's name in the cluster: in presence keys, channel names and the store's `holder` field.
 * Short, because it is in every session record and every log line about a takeover.
 */
import { randomBytes } from 'node:crypto';

const NODE_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** A random id of 10 hex digits: unique enough among the nodes of one Redis. */
export function newNodeId(): string {
  return randomBytes(5).toString('hex');
}

/** Refuses ids that would break a key or channel name (`:` separates their parts; `*` is a pattern). */
export function checkNodeId(id: string): string {
  if (!NODE_ID.test(id)) throw new Error(`node id must be 1–64 letters, digits, '.', '_' or '-'; got ${JSON.stringify(id)}`);
  return id;
}
