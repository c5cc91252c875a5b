/**
 * Turns a `--store` value into a SessionStore: `memory`, `sqlite:PATH`, or a bare PATH (SQLite).
 * The composition root calls this; nothing below it knows which store it got.
 */
import type { SessionStore } from '../session/store.js';
import { MemoryStore } from './memory-store.js';
import { SqliteStore } from './sqlite-store.js';

/** The store the CLI uses when none is given. */
export const DEFAULT_STORE_SPEC = 'sqlite:./.relive/relive.db';

export function openStore(spec: string): SessionStore {
  const trimmed = spec.trim();
  if (trimmed === '') throw new Error('store: empty spec (use memory, sqlite:PATH or a file path)');
  if (trimmed === 'memory') return new MemoryStore();
  // A scheme is two or more letters before a colon, so a Windows drive (C:\…) stays a path.
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme === undefined) return SqliteStore.open(trimmed);
  if (scheme === 'sqlite') {
    const path = trimmed.slice('sqlite:'.length);
    if (path === '') throw new Error(`store: ${spec} names no file (use sqlite:PATH)`);
    return SqliteStore.open(path);
  }
  throw new Error(`store: unknown scheme "${scheme}" in ${spec} (supported: memory, sqlite:PATH or a file path)`);
}
