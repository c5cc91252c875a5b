/**
 * Where a resilient session keeps its newest resumption handle (and a short transcript to seed a
 * new session if the handle is lost), so a page reload or process restart can resume. Handles
 * act like credentials for the session for about two hours: store them as you would a token.
 *
 * Browser-safe: no imports. The Node file store lives in file-handle-store.ts.
 */

export interface TranscriptTurn {
  role: 'user' | 'model';
  text: string;
}

export interface StoredSession {
  handle: string;
  model: string;
  /** Epoch ms; handles expire about 2 h after the session's last connection ends. */
  savedAt: number;
  transcript?: TranscriptTurn[];
}

export interface HandleStore {
  /** The saved session, or undefined when there is none or it cannot be read. */
  load(): Promise<StoredSession | undefined>;
  save(s: StoredSession): Promise<void>;
  clear(): Promise<void>;
}

/** The part of the Web Storage API the store uses (Node's types have no `Storage`). */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/**
 * The value as a StoredSession if it has the right shape, else undefined. Extra fields are
 * dropped so a stored object never carries more than it should back into the session.
 */
export function parseStoredSession(value: unknown): StoredSession | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.handle !== 'string' || v.handle === '' || typeof v.model !== 'string' || typeof v.savedAt !== 'number' || !Number.isFinite(v.savedAt)) {
    return undefined;
  }
  const out: StoredSession = { handle: v.handle, model: v.model, savedAt: v.savedAt };
  if (v.transcript !== undefined) {
    if (!Array.isArray(v.transcript)) return undefined;
    const turns: TranscriptTurn[] = [];
    for (const t of v.transcript as unknown[]) {
      if (typeof t !== 'object' || t === null) return undefined;
      const { role, text } = t as Record<string, unknown>;
      if ((role !== 'user' && role !== 'model') || typeof text !== 'string') return undefined;
      turns.push({ role, text });
    }
    out.transcript = turns;
  }
  return out;
}

/** A deep copy, so neither the caller nor the store can change the other's object. */
function copy(s: StoredSession): StoredSession {
  const out: StoredSession = { handle: s.handle, model: s.model, savedAt: s.savedAt };
  if (s.transcript) out.transcript = s.transcript.map((t) => ({ role: t.role, text: t.text }));
  return out;
}

/** Keeps the session for the life of the process or page only. */
export function memoryHandleStore(): HandleStore {
  let saved: StoredSession | undefined;
  return {
    async load() {
      return saved && copy(saved);
    },
    async save(s) {
      saved = copy(s);
    },
    async clear() {
      saved = undefined;
    },
  };
}

/**
 * Keeps the session in Web Storage under `key` (default storage: `globalThis.localStorage`).
 * A missing, unreadable or corrupt entry loads as undefined; a failing save (quota) rejects.
 */
export function localStorageHandleStore(key: string, storage?: StorageLike): HandleStore {
  let store = storage;
  if (store === undefined) {
    try {
      // Reading localStorage can itself throw (sandboxed iframes, disabled storage).
      store = (globalThis as { localStorage?: StorageLike }).localStorage;
    } catch {
      store = undefined;
    }
  }
  if (!store) throw new Error('localStorageHandleStore: no localStorage here; pass a storage object or use another store');
  const s = store;
  return {
    async load() {
      let raw: string | null;
      try {
        raw = s.getItem(key);
      } catch {
        return undefined;
      }
      if (raw === null) return undefined;
      try {
        return parseStoredSession(JSON.parse(raw));
      } catch {
        return undefined;
      }
    },
    async save(session) {
      s.setItem(key, JSON.stringify(copy(session)));
    },
    async clear() {
      s.removeItem(key);
    },
  };
}
