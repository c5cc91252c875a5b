/**
 * Which close the client of the gateway gets when its upstream session ends or cannot be opened:
 * the upstream's own, when it is one a server can send (PROTOCOL.md §7.2), else the real service's
 * close for an unavailable backend.
 */
import { ClosedBeforeSetupError } from '../../client/close-error.js';
import { CloseReasons } from '../../protocol/close-codes.js';

/**
 * The upstream's close, passed through verbatim. A transport failure (1006: refused, reset, no
 * answer; the reason is then a socket error such as "connect ECONNREFUSED") is what the real
 * service reports as its backend being unavailable.
 */
export function passThrough(close: { code: number; reason: string }): { code: number; reason: string } {
  if (close.code < 1000 || close.code > 4999 || [1004, 1005, 1006, 1015].includes(close.code)) return { ...CloseReasons.unavailable };
  return { code: close.code, reason: close.reason || CloseReasons.unavailable.reason };
}

/** Opening the upstream session failed with `err`: its close before setup when it had one. */
export function closeForOpenFailure(err: unknown): { code: number; reason: string } {
  return err instanceof ClosedBeforeSetupError ? passThrough({ code: err.code, reason: err.reason }) : { ...CloseReasons.unavailable };
}
