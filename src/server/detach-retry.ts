/**
 * Hands a session back to the store when its connection closes. A detach that fails for want of
 * a store (a Redis outage) is tried again in the background for a few minutes: a session left
 * marked as attached would never have its handles expire. The retry is harmless whatever happened
 * to the first attempt: the store counts the same detach once, and a resume in between took a new
 * lease, which fences it.
 */
import { errorMessage, hasCode } from '../errors.js';
import type { SessionStore } from '../session/store.js';
import { FencedError } from '../session/store.js';

/** Pauses between the attempts while the store is unreachable: about 5 minutes in all. */
export const DETACH_RETRY_DELAYS_MS = [1_000, 2_000, 4_000, 8_000, 15_000, 30_000, 60_000, 60_000, 60_000, 60_000];

export interface DetachRequest {
  readonly sessionId: string;
  readonly leaseToken: number;
  readonly at: number;
  readonly connectedMs: number;
  readonly videoSeen: boolean;
}

export interface DetachDeps {
  readonly store: Pick<SessionStore, 'detach'>;
  readonly log: { info(obj: object, message: string): void; error(obj: object, message: string): void };
  /**
   * Runs `retry` after `ms`. Real time by default, not the server clock: this waits for Redis to
   * come back, and a manual clock may never move. Tests pass their own to count the attempts.
   */
  readonly later?: (ms: number, retry: () => void) => void;
}

const realLater = (ms: number, retry: () => void): void => {
  setTimeout(retry, ms).unref();
};

/** Detaches; resolves after the first attempt (a retry, when one is due, runs in the background). */
export async function detachWithRetry(deps: DetachDeps, request: DetachRequest, attempt = 0): Promise<void> {
  const { sessionId, leaseToken, at, connectedMs, videoSeen } = request;
  try {
    await deps.store.detach(sessionId, leaseToken, at, connectedMs, videoSeen);
    if (attempt > 0) deps.log.info({ attempt }, 'session detached after the store came back');
  } catch (err) {
    // Fenced: the session was taken over, and the new holder's accounting stands.
    if (err instanceof FencedError) return;
    deps.log.error({ err: errorMessage(err), attempt }, 'detaching the session failed');
    // Gone (a Redis restarted without persistence) or shut down: nothing left to detach.
    if (hasCode(err, 'RELIVE_ERR_SESSION_NOT_FOUND', 'RELIVE_ERR_STORE_CLOSED') || attempt >= DETACH_RETRY_DELAYS_MS.length) return;
    (deps.later ?? realLater)(DETACH_RETRY_DELAYS_MS[attempt]!, () => void detachWithRetry(deps, request, attempt + 1));
  }
}
