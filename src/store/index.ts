/**
 * `relive-gemini/store`: where sessions live. Pass one as `createServer({ store })`; the default is
 * in memory. A subpath of its own so that the root import never loads a store's driver.
 */
export { MemoryStore } from './memory-store.js';
export { SqliteStore } from './sqlite-store.js';
export { RedisStore, type RedisStoreOptions } from './redis-store.js';
export { openStore, type OpenStoreOptions } from './open-store.js';
export { FencedError, type SessionStore, type SessionRecord, type NewSessionRecord, type Checkpoint, type CommitRequest } from '../session/store.js';
export { ReliveError, hasCode, type ReliveErrorCode } from '../errors.js';
