/**
 * The port through which everything outside connection.ts acts on a connection: the registry
 * (takeover, the control API), drain and reset, the session lifetime, the fault actions. No piece
 * takes the whole Connection, and this file names no transport class, so ws's types stay out of
 * every module that acts on connections.
 */
import type { CloseSpec } from '../protocol/close-codes.js';
import type { LiveEndpoint } from '../protocol/endpoint.js';

export interface AttachedConnection {
  readonly id: string;
  readonly openedAt: number;
  readonly remoteAddress: string | undefined;
  readonly endpoint: LiveEndpoint;
  /** Sends goAway now (once set up) and closes when timeLeftMs runs out. */
  goAway(timeLeftMs: number): void;
  close(spec: CloseSpec, detail: string): void;
  /** Takeover: closes this connection and resolves once its last write is done. */
  yieldSession(): Promise<void>;
  /** Closes with `spec` and resolves once the session is handed back to the store (a delete waits for it). */
  closeAndSettle(spec: CloseSpec, detail: string): Promise<void>;
  /** Resolves when the connection is closed (its session's store writes may still run: see closeAndSettle). */
  readonly closed: Promise<void>;
}
