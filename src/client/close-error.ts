/**
 * A Live connection that closed before its session was ready: the WebSocket before it opened, or
 * the session before setupComplete (start() and connectResilient reject with it). The close code
 * and reason are fields, so callers (the gateway passes an upstream's close on to its own client)
 * read them here instead of parsing the message, which is for people.
 *
 * Browser-safe: no imports.
 */
export class ClosedBeforeSetupError extends Error {
  constructor(
    /** The WebSocket close code (1006: no close frame, e.g. the connection was refused or dropped). */
    readonly code: number,
    /** The close reason the peer gave, or what went wrong when there was no close frame. */
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'ClosedBeforeSetupError';
  }
}
