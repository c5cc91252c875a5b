/**
 * Two behaviours PROTOCOL.md requires that `ws` has no option for, reached through its receiver
 * (ws is pinned to 8.23.0 in package.json; test/server/close-handshake.test.ts guards them):
 *  - a client close without a status code (the SDK's `session.close()`) is answered with 1000,
 *    as Google does, instead of ws's empty echo that clients see as 1005;
 *  - a protocol error found by ws (oversized frame, invalid UTF-8) closes with a reason text,
 *    where ws would send only the code.
 */
import type { WebSocket } from 'ws';
import { truncateCloseReason, type CloseSpec } from '../protocol/close-codes.js';

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

export function closeWithReasonOnProtocolError(ws: WebSocket, map: (err: Error & { code?: string }) => CloseSpec | undefined): void {
  receiverOf(ws)?.prependListener('error', (err) => {
    const spec = map(err);
    if (spec && ws.readyState === ws.OPEN) ws.close(spec.code, truncateCloseReason(spec.reason));
  });
}
