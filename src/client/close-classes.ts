/**
 * What a close code and reason mean for a client that wants its session back (PROTOCOL.md §7.1).
 * The service reuses a code for unrelated failures (1008 is both "reconnect now" and "your model
 * does not exist"), so the reason text decides; matching is case-insensitive and on fragments,
 * since reasons are truncated to 123 bytes and prefixed with trace ids on Vertex.
 *
 * Browser-safe: no imports.
 */

export type CloseKind =
  /** The client asked for the close: nothing to do. */
  | 'normal'
  /** A transient failure: reconnect (resume with the newest handle) after a backoff. */
  | 'retry'
  /** The handle no longer names a session: start a new one (seeded from the transcript if possible). */
  | 'sessionLost'
  /** Another connection resumed this session: stop, never fight it for the session. */
  | 'takenOver'
  /** Retrying would fail the same way (bad key, model, request): give up and report. */
  | 'fatal';

export interface CloseClass {
  kind: CloseKind;
  /**
   * Short machine name for logs and metrics: normal, closedByServer, cancelled, dropped, aborted,
   * internal, unavailable, deadlineExpired, quota, goingAway, serviceRestart, tryAgainLater,
   * sessionNotFound, resumeRejected, takenOver, invalidArgument, invalidApiKey, apiKeyExpired,
   * locationNotSupported, modelNotFound, notImplemented, entityNotFound, permissionDenied,
   * policyViolation, messageTooBig, application, unknown. `'quota'` asks for a longer backoff.
   * (Kept a string: callers add their own, e.g. 'gaveUp'.)
   */
  label: string;
}

export interface CloseContext {
  /** The connection was resuming a session (its setup carried a handle) and had not completed setup. */
  resuming: boolean;
  /** The application closed this connection itself. */
  closedByClient: boolean;
}

const c = (kind: CloseKind, label: string): CloseClass => ({ kind, label });

/** Reasons that mean the credentials themselves are bad: fatal even while resuming. */
function credentialProblem(reason: string): CloseClass | undefined {
  if (/api key expired/i.test(reason)) return c('fatal', 'apiKeyExpired');
  if (/api key not valid|api key not found|pass a valid api key/i.test(reason)) return c('fatal', 'invalidApiKey');
  if (/user location is not supported/i.test(reason)) return c('fatal', 'locationNotSupported');
  return undefined;
}

export function classifyClose(code: number, reason: string, context: CloseContext): CloseClass {
  // After the app's own close, 1000 (the server's answer), 1005 (a status-less echo) and 1006
  // (the socket died while closing) all just confirm it. Any other code still carries the server's
  // own verdict, so it is classified below (the caller knows it asked to close either way).
  if (context.closedByClient && (code === 1000 || code === 1005 || code === 1006)) return c('normal', 'normal');

  switch (code) {
    case 1000:
      // Vertex ends the connection at its 10-minute cap this way; any 1000 the client did not
      // ask for is a connection end, not a session end.
      if (/operation was cancell?ed/i.test(reason)) return c('retry', 'cancelled');
      return c('retry', 'closedByServer');
    case 1001:
      return c('retry', 'goingAway');
    case 1005:
    case 1006:
      return c('retry', 'dropped');
    case 1007: {
      const creds = credentialProblem(reason);
      if (creds) return creds;
      // A resume refused as invalid (seen after a 1011 deadline close, and relive's answer to a
      // resume naming another model): the handle is unusable, a new session is not.
      if (context.resuming) return c('sessionLost', 'resumeRejected');
      return c('fatal', 'invalidArgument');
    }
    case 1008:
      if (/session resumed on another connection/i.test(reason)) return c('takenOver', 'takenOver');
      if (/session not found/i.test(reason)) return c('sessionLost', 'sessionNotFound');
      // The connection cap after goAway, or audio during a pending tool call: resume.
      if (/operation was aborted/i.test(reason)) return c('retry', 'aborted');
      if (/is not found for api version|not supported for bidigeneratecontent/i.test(reason)) return c('fatal', 'modelNotFound');
      if (/not implemented|not supported|not enabled/i.test(reason)) return c('fatal', 'notImplemented');
      if (/requested entity was not found/i.test(reason)) return c('fatal', 'entityNotFound');
      if (/permission/i.test(reason)) return c('fatal', 'permissionDenied');
      // 1008 otherwise stands for NOT_FOUND / UNIMPLEMENTED / PERMISSION_DENIED (e.g. an
      // unsupported MIME type): the same request would fail again.
      return c('fatal', 'policyViolation');
    case 1009:
      // The replay buffer would send the same oversized message again.
      return c('fatal', 'messageTooBig');
    case 1011:
      if (/exceeded your current quota|resource_exhausted|quota/i.test(reason)) return c('retry', 'quota');
      if (/deadline expired|deadline exceeded/i.test(reason)) return c('retry', 'deadlineExpired');
      if (/unavailable/i.test(reason)) return c('retry', 'unavailable');
      return c('retry', 'internal');
    case 1012:
      return c('retry', 'serviceRestart');
    case 1013:
      return c('retry', 'tryAgainLater');
  }
  // Private-use codes: an application (e.g. a gateway in front of the service) refusing on purpose.
  if (code >= 4000 && code <= 4999) return c('fatal', 'application');
  // Unknown codes are more likely a proxy or network oddity than a verdict on the request.
  return c('retry', 'unknown');
}

/**
 * Whether a failed WebSocket upgrade (HTTP status instead of 101) is worth retrying: 408, 429 and
 * 5xx are; 400/401/403/404 and the other 4xx mean the URL, key or model is wrong.
 */
export function isRetryableHttpStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}
