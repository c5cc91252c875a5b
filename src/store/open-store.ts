/**
 * Turns a `--store` value into a SessionStore: `memory`, `sqlite:PATH`, a bare PATH (SQLite), or
 * `redis://HOST:PORT[/DB]` (Redis, for several nodes). Async because a Redis store connects before
 * it is returned, so an unreachable server fails here. The composition root calls this; nothing
 * below it knows which store it got.
 */
import type { SessionStore } from '../session/store.js';
import { MemoryStore } from './memory-store.js';
import { RedisStore } from './redis-store.js';
import { SqliteStore } from './sqlite-store.js';

/** The store the CLI uses when none is given. */
export const DEFAULT_STORE_SPEC = 'sqlite:./.relive/relive.db';

export interface OpenStoreOptions {
  /** How long a detached session's handles stay valid: Redis expires its keys after that (plus a margin). */
  handleTtlMs?: number;
}

export async function openStore(spec: string, options: OpenStoreOptions = {}): Promise<SessionStore> {
  const trimmed = spec.trim();
  if (trimmed === '') throw new Error('store: empty spec (use memory, sqlite:PATH, redis://HOST:PORT[/DB] or a file path)');
  if (trimmed === 'memory') return new MemoryStore();
  // A scheme is two or more letters before a colon, so a Windows drive (C:\…) stays a path.
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme === undefined) return SqliteStore.open(trimmed);
  if (scheme === 'sqlite') {
    const path = trimmed.slice('sqlite:'.length);
    if (path === '') throw new Error(`store: ${spec} names no file (use sqlite:PATH)`);
    return SqliteStore.open(path);
  }
  if (scheme === 'redis' || scheme === 'rediss') return RedisStore.open(trimmed, { detachedTtlMs: options.handleTtlMs });
  throw new Error(`store: unknown scheme "${scheme}" in ${spec} (supported: memory, sqlite:PATH, redis://HOST:PORT[/DB] or a file path)`);
}
