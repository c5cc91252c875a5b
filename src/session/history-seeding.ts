/**
 * When a model whose profile takes clientContent only as initial history (3.1,
 * `clientContent: 'initialHistory'`) accepts it: the setup asked for it with
 * `historyConfig.initialHistoryInClientContent: true`, no model turn has started (on this
 * connection or, for a resumed session, before), no realtime input has come, and the history holds no function-call or
 * function-response parts. Anything else is refused with 1007 by the caller, as the real model
 * closes (livekit/agents#5985, pipecat#4171, pipecat#4926). Profiles with `anytime` take it always.
 */
import type { ClientContent } from '../protocol/client-schema.js';
import type { SessionConfig } from './config.js';

export class HistorySeeding {
  private open: boolean;

  constructor(
    private readonly config: SessionConfig,
    /** The session (resumed) has had a model turn already. */
    answered: boolean,
  ) {
    this.open = config.setup.historyConfig?.initialHistoryInClientContent === true && !answered;
  }

  private get restricted(): boolean {
    return this.config.profile.clientContent === 'initialHistory';
  }

  /** Realtime input arrived or a model turn started: seeding time is over. */
  close(): void {
    this.open = false;
  }

  /** Why this clientContent is refused, or undefined when it is taken. */
  refusal(cc: ClientContent): string | undefined {
    if (!this.restricted) return undefined;
    if (this.config.setup.historyConfig?.initialHistoryInClientContent !== true) {
      return `${this.config.profile.name} takes clientContent only as initial history, with historyConfig.initialHistoryInClientContent`;
    }
    if (!this.open) return `${this.config.profile.name} takes clientContent only before the first model turn and before any realtime input`;
    const fnPart = (cc.turns ?? []).some((t) => (t.parts ?? []).some((p) => p.functionCall !== undefined || p.functionResponse !== undefined));
    if (fnPart) return 'function calls and responses cannot be seeded as initial history';
    return undefined;
  }
}
