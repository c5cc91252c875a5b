/**
 * The session's side of an engine that hears realtime input itself (`Engine.hear`, the gateway in
 * front of a model that listens): what the user sends goes to it as it arrives, and what the
 * engine made of the user's speech comes back. This is the only place the session talks to the
 * engine outside a generation (generation.ts), so a change of the Engine interface lands here.
 */
import type { SessionConfig } from './config.js';
import type { Engine, HeardInput, Listener } from './engine.js';
import type { SessionId } from './ids.js';

export class EngineHearing {
  private listener: Listener | undefined;

  constructor(
    private readonly engine: Engine,
    private readonly sessionId: SessionId,
    /** The session's config now (a contextUpdate replaces it). */
    private readonly config: () => SessionConfig,
    /** The engine's own transcript of the user's speech. */
    private readonly transcribed: (text: string) => void,
  ) {}

  /** Realtime input, for an engine that hears it; nothing for one that does not. */
  hear(input: HeardInput): void {
    if (!this.engine.hear) return;
    if (!this.listener) {
      const config = this.config;
      this.listener = {
        sessionId: this.sessionId,
        get config() {
          return config();
        },
        transcribed: (text) => this.transcribed(text),
      };
    }
    this.engine.hear(this.listener, input);
  }

  /** The connection ended: the engine lets go of what it holds for the session. */
  release(): void {
    this.engine.release?.(this.sessionId);
  }
}
