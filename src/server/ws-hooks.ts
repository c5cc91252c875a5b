/**
 * Two behaviours PROTOCOL.md requires that `ws` has no option for, reached through its receiver
 * (ws is pinned to 8.23.0 in package.json; test/server/close-handshake.test.ts guards them):
 *  - a client close without a status code (the SDK's `session.close()`) is answered with 1000,
 *    as Google does, instead of ws's empty echo that clients see as 1005;
 *  - a protocol error found by ws (oversized frame, invalid UTF-8) closes with a reason text,
 *    where ws would send only the code.
 */
import type { WebSocket } from 'ws';
import { CloseReasons, payloadTooLargeClose, truncateCloseReason, type CloseSpec } from '../protocol/close-codes.js';

interface Receiver {
  prependListener(event: 'conclude', fn: (code: number, reason: Buffer) => void): void;
  prependListener(event: 'error', fn: (err: Error & { code?: string }) => void): void;
}

function receiverOf(ws: WebSocket): Receiver | undefined {
  return (ws as unknown as { _receiver?: Receiver })._receiver;
}

export function answerStatuslessCloseWith1000(ws: WebSocket): void {
  receiverOf(ws)?.prependListener('conclude', (code) => {
    // ws's own handler runs next; close() then is a no-op because ours has already been sent.
    if (code === 1005 && ws.readyState === ws.OPEN) ws.close(1000);
  });
}

/** The close for a protocol error ws found: the code and reason the real service sends for it. */
function closeFor(err: Error & { code?: string }, maxFrameBytes: number): CloseSpec | undefined {
  if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') return payloadTooLargeClose(maxFrameBytes);
  if (err.code === 'WS_ERR_INVALID_UTF8') return CloseReasons.invalidArgument;
  return undefined;
}

export function closeWithReasonOnProtocolError(ws: WebSocket, maxFrameBytes: number): void {
  receiverOf(ws)?.prependListener('error', (err) => {
    const spec = closeFor(err, maxFrameBytes);
    if (spec && ws.readyState === ws.OPEN) ws.close(spec.code, truncateCloseReason(spec.reason));
  });
}
