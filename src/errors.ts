/**
 * relive's own errors carry a code, as ws's do (`WS_ERR_*`): callers decide on `err.code`, never
 * on the wording of a message, which is for people and may change.
 */

export type ReliveErrorCode =
  /** The store has no session of that id (deleted, expired, or a Redis restarted without persistence). */
  | 'RELIVE_ERR_SESSION_NOT_FOUND'
  /** A session of that id exists already. */
  | 'RELIVE_ERR_SESSION_EXISTS'
  /** The store was closed (server shutdown): nothing more can be read or written. */
  | 'RELIVE_ERR_STORE_CLOSED'
  /** The store cannot be reached (Redis down or unreachable). */
  | 'RELIVE_ERR_STORE_UNREACHABLE'
  /** Another holder took the session's lease: this holder may not write it (see FencedError). */
  | 'RELIVE_ERR_FENCED'
  /** A write the store refuses as out of order (a checkpoint not newer than the last). */
  | 'RELIVE_ERR_CHECKPOINT_ORDER'
  /** A store file or server in a state this relive cannot use (schema too new, WAL refused). */
  | 'RELIVE_ERR_STORE_UNUSABLE'
  /** Options or a spec that cannot work (bad store spec, non-positive TTL, reserved key). */
  | 'RELIVE_ERR_INVALID_OPTION';

export class ReliveError extends Error {
  constructor(
    readonly code: ReliveErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ReliveError';
  }
}

/** True when `err` is a ReliveError with one of `codes`. */
export function hasCode(err: unknown, ...codes: ReliveErrorCode[]): err is ReliveError {
  return err instanceof ReliveError && codes.includes(err.code);
}

/** The message of anything thrown, for a log line: `throw 'text'` and rejections with non-errors included. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
