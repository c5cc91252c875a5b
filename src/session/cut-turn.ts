/**
 * The premature (or, at 0 chunks, empty) turnComplete real models send (PROTOCOL.md §6.6), as a
 * fault the emulator injects: a decorator on a generation's output that lets `afterChunks`
 * content messages through and ends the generation instead of sending the next one. The turn
 * then ends with turnComplete and no generationComplete, and the history keeps what was sent,
 * as after a barge-in. The generation itself knows nothing of it.
 */
import type { ServerMessage } from '../protocol/server-messages.js';
import type { GenerationOutcome, GenerationOutput } from './generation.js';

/** How a turn's generation ended, as the session sees it: a cut turn ends 'truncated'. */
export type TurnOutcome = GenerationOutcome | { readonly kind: 'truncated' };

export class CutTurn implements GenerationOutput {
  private sent = 0;
  private struck = false;

  /**
   * `stop` ends the generation; it is called while the generation sends, so a generation that
   * checks its abort signal after each send learns that the message did not go out.
   */
  constructor(
    private readonly inner: GenerationOutput,
    private readonly afterChunks: number,
    private readonly stop: () => void,
  ) {}

  send(message: ServerMessage): void {
    if (this.struck) return;
    if (isContent(message)) {
      if (this.sent >= this.afterChunks) {
        this.struck = true;
        this.stop();
        return;
      }
      this.sent++;
    }
    this.inner.send(message);
  }

  ready(): Promise<void> {
    return this.inner.ready();
  }

  /** The generation's outcome as the turn's: the abort this cut caused is a truncated turn. */
  outcome(outcome: GenerationOutcome): TurnOutcome {
    return this.struck && outcome.kind === 'aborted' ? { kind: 'truncated' } : outcome;
  }
}

/** Model output proper (modelTurn, toolCall), as opposed to signals and transcripts, which a cut lets through. */
function isContent(m: ServerMessage): boolean {
  return 'toolCall' in m || ('serverContent' in m && m.serverContent.modelTurn !== undefined);
}
