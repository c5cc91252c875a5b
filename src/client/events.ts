/** What a resilient session tells the app about its own life, beside the Live messages themselves. */
import type { CloseClass } from './close-classes.js';
import type { DroppedInput } from './replay-buffer.js';

export type LifecycleEvent =
  /**
   * A connection is ready (setupComplete). `resumed`: it continues the session through a handle.
   * `gapMs`: how long the session had no ready connection before this one (absent for the first).
   */
  | { type: 'connected'; connection: number; resumed: boolean; gapMs?: number }
  /** The server sent goAway: a new connection takes over at the next turn boundary. */
  | { type: 'rotating'; connection: number; timeLeftMs: number }
  /** The connection ended unexpectedly; another attempt follows after `delayMs`. */
  | { type: 'reconnecting'; attempt: number; delayMs: number; code: number; reason: string; class: CloseClass }
  /**
   * The session goes on with its state: through a handle (exact), or, when no handle resumes any
   * more, as a fresh session seeded from the transcript the library kept (text only).
   * `replayed`: client messages sent again; `dropped`: audio the bounded buffer could not keep;
   * `restoredTurns`: transcript turns given back as history, with no reply asked (the seed, or,
   * through a handle, turns the app saw answered after the handle was made: the connection was
   * lost between a turnComplete and its handle).
   */
  | { type: 'stateRestored'; via: 'handle' | 'transcript'; connection: number; replayed: number; restoredTurns: number; dropped: DroppedInput }
  /** The state is gone: the session continues as a fresh one with no history. */
  | { type: 'stateLost'; connection: number; reason: string }
  /**
   * With `contextCheck`: the first turn after a resume by handle was prompted with `promptTokens`,
   * under half the `heldTokens` the session held before it: the server lost the conversation. Its
   * transcript (`reseededTurns` turns, text only) has been sent to it again.
   */
  | { type: 'contextLost'; connection: number; promptTokens: number; heldTokens: number; reseededTurns: number }
  /** The session is over for good. */
  | { type: 'closed'; code: number; reason: string; class: CloseClass };

export type LifecycleListener = (event: LifecycleEvent) => void;
