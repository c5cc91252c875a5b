/**
 * Encoding exactly as Google sends it (PROTOCOL.md §1.5): UTF-8 JSON pretty-printed with a
 * 2-space indent and a trailing newline, to be sent as a BINARY frame. Pipecat and the apps
 * forked from Google's web console accept nothing else.
 */
import type { ServerMessage } from './server-messages.js';

export function encodeServerMessage(message: ServerMessage): Buffer {
  return Buffer.from(`${JSON.stringify(message, null, 2)}\n`, 'utf8');
}
