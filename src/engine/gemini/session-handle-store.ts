/**
 * The gateway's upstream handle for one relive session, kept in relive's own store, so that a
 * relive restarted on the same store resumes each session's upstream session exactly instead of
 * re-seeding it from the transcript.
 */
import { parseStoredSession, type HandleStore } from '../../client/handle-store.js';
import type { SessionStore } from '../../session/store.js';

/** The session value holding the upstream session (SessionStore.getSessionValue): deleted with the session. */
const KEY = 'gateway.upstream';

export function sessionHandleStore(store: SessionStore, sessionId: string): HandleStore {
  return {
    async load() {
      const text = await store.getSessionValue(sessionId, KEY);
      if (!text) return undefined;
      try {
        return parseStoredSession(JSON.parse(text));
      } catch {
        return undefined;
      }
    },
    save: (session) => store.setSessionValue(sessionId, KEY, JSON.stringify(session)),
    clear: () => store.setSessionValue(sessionId, KEY, undefined),
  };
}
