/**
 * What a connection reports of its wire traffic to whoever records it (--record DIR). The
 * connection calls these synchronously and never waits on them; a tap must not throw.
 */
import type { ServerMessage } from '../protocol/server-messages.js';

export interface ConnectionInfo {
  readonly conn: string;
  /** Request path without its query (the query may hold the API key). */
  readonly path: string;
  readonly apiVersion: string;
}

export interface ConnectionTap {
  /** A client frame as received, before parsing: bad input is part of an incident too. */
  clientFrame(data: Buffer, isBinary: boolean): void;
  /** A server message as it is written to the socket. */
  serverMessage(message: ServerMessage): void;
  /** Setup opened (or resumed) this session: the recording belongs to it from now on. */
  session(id: string, resumed: boolean): void;
  /** The socket closed: the code the peer saw, and which side started the close. */
  closed(code: number, reason: string, initiatedBy: 'client' | 'server'): void;
}

export interface WireRecorder {
  open(info: ConnectionInfo): ConnectionTap;
  /** Writes out what is buffered; called at server close. */
  flush(): Promise<void>;
}
