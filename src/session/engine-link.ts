/**
 * The session's side of its engine: the EngineSession it opens once (a resumed session is a new
 * LiveSession and opens a new one; the gateway finds its upstream again by session id), what the
 * user sends to an engine that hears realtime input itself, and what that engine made of the
 * user's speech coming back. Generations read `session`; everything else the session says to
 * its engine goes through here.
 */
import type { SessionConfig } from './config.js';
import type { Engine, EngineSession, HeardInput } from './engine.js';
import type { SessionId } from './ids.js';

export class EngineLink {
  readonly session: EngineSession;

  constructor(
    private readonly engine: Engine,
    sessionId: SessionId,
    /** The session's config now (a contextUpdate replaces it). */
    config: () => SessionConfig,
    /** The engine's own transcript of the user's speech. */
    transcribed: (text: string) => void,
  ) {
    this.session = engine.open({
      sessionId,
      get config() {
        return config();
      },
      transcribed,
    });
  }

  /** Realtime input, for an engine that hears it; nothing for one that does not. */
  hear(input: HeardInput): void {
    if (this.engine.hearsInput) this.session.hear?.(input);
  }

  /** What the engine holds for the session, for the control API. */
  describe(): Record<string, unknown> | undefined {
    return this.session.describe?.();
  }

  /** The connection ended: the engine lets go of what it holds for the session. */
  release(): void {
    this.session.close();
  }
}
