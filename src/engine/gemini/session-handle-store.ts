/**
 * The gateway's upstream handle for one relive session, kept in relive's own store, so that a
 * relive restarted on the same store resumes each session's upstream session exactly instead of
 * re-seeding it from the transcript.
 */
import { parseStoredSession, type HandleStore } from '../../client/handle-store.js';
import type { SessionStore } from '../../session/store.js';

const keyOf = (sessionId: string): string => `gateway.upstream.${sessionId}`;

export function sessionHandleStore(store: SessionStore, sessionId: string): HandleStore {
  return {
    async load() {
      const text = await store.getMeta(keyOf(sessionId));
      if (!text) return undefined;
      try {
        return parseStoredSession(JSON.parse(text));
      } catch {
        return undefined;
      }
    },
    save: (session) => store.setMeta(keyOf(sessionId), JSON.stringify(session)),
    // The store has no delete for meta entries; an empty value reads as none.
    clear: () => store.setMeta(keyOf(sessionId), ''),
  };
}
