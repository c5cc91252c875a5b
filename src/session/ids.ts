/** Identifiers handed to clients. Random, so that none can be guessed from another. */
import { randomBytes, randomUUID } from 'node:crypto';

export type SessionId = string & { readonly __brand: 'SessionId' };

export function newSessionId(): SessionId {
  return randomUUID() as SessionId;
}

/** `function-call-<decimal>`, the shape the real service uses (PROTOCOL.md §4.4). */
export function newFunctionCallId(): string {
  return `function-call-${randomBytes(8).readBigUInt64BE() % 10n ** 19n}`;
}
