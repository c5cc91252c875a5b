/**
 * What a LiveSession is given and what it gives back: its output (the connection), its
 * dependencies (the composition root), and the state a checkpoint keeps of it. Kept apart from
 * the coordinator so that readers of these shapes (the checkpointer, the store, the server) do
 * not depend on how the session works.
 */
import type { CloseSpec } from '../protocol/close-codes.js';
import type { Clock } from './clock.js';
import type { SessionConfig } from './config.js';
import type { CompressionEvent } from './context-window.js';
import type { ContextPart, ContextTurn } from './context.js';
import type { GenerationDeps, GenerationOutput, IssuedCall } from './generation.js';
import type { TextTokenizer, TokenRates } from './tokens.js';

export interface SessionOutput extends GenerationOutput {
  /** Ends the connection with this close (bad input, a scripted failure). */
  close(spec: CloseSpec, detail: string): void;
  /** A turnComplete was just sent: the moment for a resumption update. */
  turnCompleted?(): void;
  /**
   * The session reached an interaction boundary without a turnComplete: a SILENT tool response
   * answered the last call it owed. Also a moment for a resumption update.
   */
  settled?(): void;
  /** The first video frame arrived: the shorter session lifetime applies from now on. */
  videoReceived?(): void;
}

/** The state a session is restored with when it is resumed from a checkpoint. */
export interface RestoredState {
  readonly history: readonly ContextTurn[];
  /** Log index of history[0]: turns before it were dropped by compression. */
  readonly firstTurn: number;
  readonly userTurns: number;
  readonly turnsCompleted: number;
  readonly pendingInput: readonly ContextPart[];
  readonly pendingCalls: readonly IssuedCall[];
  /** When the session was created (not this resumption). */
  readonly createdAt?: number;
}

/** What a checkpoint records of a session (see store.ts). */
export interface SessionSnapshot extends RestoredState {
  readonly setup: SessionConfig['setup'];
}

/** The few log calls the core makes; pino's logger satisfies it. */
export interface CoreLogger {
  info(obj: object, message: string): void;
  warn(obj: object, message: string): void;
}

export interface LiveSessionDeps extends GenerationDeps {
  readonly clock: Clock;
  /** Strict conformance: refuse what the real service refuses (unknown tool response ids). */
  readonly strict: boolean;
  readonly log: CoreLogger;
  readonly tokenizer: TextTokenizer;
  readonly tokenRates: TokenRates;
  /** Tokens the model adds to every prompt (PROTOCOL.md §5.6: a per-model setting, default 0). */
  readonly preambleTokens: number;
  /** The model's context window; default from the model table. */
  readonly contextWindowTokens?: number;
  /** Told of every compression (the Prometheus counter). */
  readonly onCompression?: (event: CompressionEvent) => void;
}

export type { SessionStatus } from './turn-state.js';
