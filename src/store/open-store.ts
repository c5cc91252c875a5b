/**
 * Turns a `--store` value into a SessionStore: `memory`, `sqlite:PATH`, or
 * `redis://HOST:PORT[/DB]` (Redis, for several nodes). A bare word is refused rather than taken
 * as a file name: `--store memroy` would otherwise quietly keep sessions in a file named memroy.
 * Async because a Redis store connects before it is returned, so an unreachable server fails
 * here. The composition root calls this; nothing below it knows which store it got.
 */
import type { SessionStore } from '../session/store.js';
import { MemoryStore } from './memory-store.js';
import { RedisStore } from './redis-store.js';
import { SqliteStore } from './sqlite-store.js';
import { ReliveError } from '../errors.js';

/** The store the CLI uses when none is given. */
export const DEFAULT_STORE_SPEC = 'sqlite:./.relive/relive.db';

export interface OpenStoreOptions {
  /** How long a detached session's handles stay valid: Redis expires its keys after that (plus a margin). */
  handleTtlMs?: number;
}

const FORMS = 'memory, sqlite:PATH or redis://HOST:PORT[/DB]';

export async function openStore(spec: string, options: OpenStoreOptions = {}): Promise<SessionStore> {
  const trimmed = spec.trim();
  if (trimmed === '') throw new ReliveError('RELIVE_ERR_INVALID_OPTION', `store: empty spec (use ${FORMS})`);
  if (trimmed === 'memory') return new MemoryStore();
  // A scheme is two or more letters before a colon, so a Windows drive (C:\…) is no scheme.
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme === undefined) throw new ReliveError('RELIVE_ERR_INVALID_OPTION', `store: ${JSON.stringify(spec)} is not a store spec; use ${FORMS} (did you mean ${suggestion(trimmed)}?)`);
  if (scheme === 'sqlite') {
    const path = trimmed.slice('sqlite:'.length);
    if (path === '') throw new ReliveError('RELIVE_ERR_INVALID_OPTION', `store: ${spec} names no file (use sqlite:PATH)`);
    return SqliteStore.open(path);
  }
  if (scheme === 'redis' || scheme === 'rediss') return RedisStore.open(trimmed, { detachedTtlMs: options.handleTtlMs });
  throw new ReliveError('RELIVE_ERR_INVALID_OPTION', `store: unknown scheme "${scheme}" in ${spec} (supported: memory, sqlite:PATH, redis://HOST:PORT[/DB])`);
}

/** `memory` for a near miss of it (two edits or fewer: memroy, memry), else the same name as a SQLite file. */
function suggestion(bare: string): string {
  return editDistance(bare.toLowerCase(), 'memory') <= 2 ? 'memory' : `sqlite:${bare}`;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length]!;
}
