/**
 * Close codes and the reason texts the real service uses (PROTOCOL.md §7). Clients match on these
 * strings, so they are kept verbatim in one place.
 */
export interface CloseSpec {
  readonly code: number;
  readonly reason: string;
}

/** RFC 6455 caps a close reason at 123 bytes of UTF-8; `ws` throws beyond that. */
export const MAX_CLOSE_REASON_BYTES = 123;

export const CloseReasons = {
  invalidArgument: { code: 1007, reason: 'Request contains an invalid argument.' },
  invalidApiKey: { code: 1007, reason: 'API key not valid. Please pass a valid API key.' },
  apiKeyExpired: { code: 1007, reason: 'API key expired' },
  voicesFromNonAudio: { code: 1007, reason: 'Cannot extract voices from a non-audio request.' },
  sessionNotFound: { code: 1008, reason: 'BidiGenerateContent session not found' },
  aborted: { code: 1008, reason: 'The operation was aborted.' },
  notImplemented: { code: 1008, reason: 'Operation is not implemented, or supported, or enabled' },
  entityNotFound: { code: 1008, reason: 'Requested entity was not found.' },
  internal: { code: 1011, reason: 'Internal error occurred.' },
  unavailable: { code: 1011, reason: 'The service is currently unavailable.' },
  deadlineExpired: { code: 1011, reason: 'Deadline expired before operation could complete.' },
  /** Google appends "For more information…"; the sentence clients match on is this one (PROTOCOL.md §7.1). */
  quotaExceeded: { code: 1011, reason: 'You exceeded your current quota, please check your plan and billing details.' },
  normal: { code: 1000, reason: '' },
  /** relive's own: the old connection of a session that was resumed elsewhere (PROTOCOL.md §5.3 takeover). */
  takenOver: { code: 1008, reason: 'Session resumed on another connection.' },
} as const satisfies Record<string, CloseSpec>;

/** Google names the message path, with indices of repeated fields, and none at the root. */
export function unknownFieldClose(field: string, at: string): CloseSpec {
  const where = at ? ` at '${at}'` : '';
  return { code: 1007, reason: `Invalid JSON payload received. Unknown name "${field}"${where}: Cannot find field.` };
}

export function unknownModelClose(model: string, apiVersion: string): CloseSpec {
  return {
    code: 1008,
    reason: `${model} is not found for API version ${apiVersion}, or is not supported for bidiGenerateContent. Call ListModels to see the list of available models and their supported methods.`,
  };
}

/** RFC 6455 1009; PROTOCOL.md is silent on oversized frames, the wording is Google's HTTP one. */
export function payloadTooLargeClose(limitBytes: number): CloseSpec {
  return { code: 1009, reason: `Request payload size exceeds the limit: ${limitBytes} bytes.` };
}

/** Truncates to at most 123 UTF-8 bytes without splitting a character, as Google does. */
export function truncateCloseReason(reason: string): string {
  if (Buffer.byteLength(reason, 'utf8') <= MAX_CLOSE_REASON_BYTES) return reason;
  let out = '';
  let bytes = 0;
  for (const ch of reason) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (bytes + n > MAX_CLOSE_REASON_BYTES) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/** Codes an application may send in a close frame (RFC 6455 §7.4). */
export function isSendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014 && code !== 1010) || (code >= 3000 && code <= 4999);
}
