/**
 * The model side of a session: runs a turn's generations and ends the turn. It owns the turn
 * state (turn-state.ts), the turn's token use (turn-usage.ts), the count of completed turns and
 * the injected cut of the next turn (cut-turn.ts); what the model said goes into the session's
 * conversation and the calls it issued into the session's ToolCalls. The session applies client
 * messages and tells it when a turn starts, resumes or is interrupted; the few things it needs
 * back from the session come through TurnHost, so this file knows nothing of client messages.
 *
 * Turn signals follow PROTOCOL.md §6: modelTurn… → generationComplete → turnComplete; a barge-in
 * gives interrupted → (toolCallCancellation) → turnComplete and no generationComplete.
 */
import type { CloseSpec } from '../protocol/close-codes.js';
import { msg } from '../protocol/server-messages.js';
import type { SessionConfig } from './config.js';
import type { ContextPart } from './context.js';
import type { Conversation } from './conversation.js';
import { CutTurn, type TurnOutcome } from './cut-turn.js';
import type { EngineSession } from './engine.js';
import { Generation, type GenerationDeps, type IssuedCall } from './generation.js';
import type { SessionOutput } from './session-ports.js';
import type { ToolCalls } from './tool-calls.js';
import { TurnState } from './turn-state.js';
import { TurnUsage, type TokenTotals } from './turn-usage.js';

/** What the runner needs from its session. */
export interface TurnHost {
  /** Where the turn's messages go; undefined before the connection attaches and after it ends. */
  output(): SessionOutput | undefined;
  /** The session's config now (a contextUpdate replaces it). */
  config(): SessionConfig;
  /** A generation failed: close the connection. */
  fail(close: CloseSpec, detail: string): void;
  /** A turn finished by itself while a reply was queued (TurnState.queueReply): run that reply. */
  replyOwed(): void;
}

/** The session's parts a generation reads and the runner writes what it said into. */
export interface TurnParts {
  readonly engine: EngineSession;
  readonly deps: GenerationDeps;
  readonly conversation: Conversation;
  readonly calls: ToolCalls;
}

export class TurnRunner {
  readonly turn = new TurnState<Generation>();
  private readonly usage = new TurnUsage();
  /** The next generation ends after this many content messages (cut-turn.ts). */
  private nextCut: number | undefined;
  /** Function responses that arrived while the model talked: the history gets them after the turn's output. */
  private deferred: ContextPart[] = [];

  constructor(
    private readonly host: TurnHost,
    private readonly parts: TurnParts,
    private completed: number,
  ) {}

  get turnsCompleted(): number {
    return this.completed;
  }

  /** Token use of the session so far, for the control API. */
  get totals(): Readonly<TokenTotals> {
    return this.usage.totals;
  }

  /** Ends the next model turn after `afterChunks` content messages (LiveSession.cutNextTurn). */
  cutNext(afterChunks: number): void {
    this.nextCut = afterChunks;
  }

  /** A new model turn, on the conversation as it is now (compressed already, if it had to be). */
  start(): void {
    this.usage.begin(this.parts.conversation.promptDetails());
    this.runGeneration('start');
  }

  /** The open turn goes on: its blocking calls are answered. */
  resume(): void {
    this.runGeneration('resume');
  }

  /** Parts for the history once the open turn's output is recorded (a NON_BLOCKING answer that came mid-turn). */
  afterTurn(parts: readonly ContextPart[]): void {
    this.deferred.push(...parts);
  }

  /** The connection is gone: stop generating. */
  end(): void {
    this.turn.end()?.abort();
  }

  /** Barge-in: cut the generation, keep only what the client received, withdraw pending calls. */
  interrupt(): void {
    const generation = this.turn.interrupt();
    const cancelled = this.parts.calls.withdraw(generation?.calls ?? [], this.host.config().profile.bargeInCancels === 'blocking');
    if (generation) {
      generation.abort();
      this.recordModel(generation);
    }
    this.host.output()?.send(msg.interrupted());
    if (cancelled.length > 0) this.host.output()?.send(msg.toolCallCancellation(cancelled));
    this.turnEnded(false);
  }

  /** Runs a generation for a new turn (`start`) or for the open one once its blocking calls are answered (`resume`). */
  private runGeneration(how: 'start' | 'resume'): void {
    const out = this.host.output();
    if (!out) return;
    const cutAfter = this.nextCut;
    this.nextCut = undefined;
    const onToolCall = (calls: readonly IssuedCall[]): void => {
      this.parts.calls.issued(calls);
      if (calls.some((c) => c.blocking)) {
        // The generation ends here; the turn stays open until the responses arrive.
        this.recordModel(generation);
        this.turn.awaitTool();
      }
    };
    const cut = cutAfter !== undefined ? new CutTurn(out, cutAfter, () => generation.abort()) : undefined;
    const { engine, deps, conversation } = this.parts;
    const generation = new Generation(engine, deps, this.host.config(), conversation.history, conversation.userTurns, cut ?? out, onToolCall, (parts) =>
      this.fillerEnded(generation, parts),
    );
    if (how === 'start') this.turn.start(generation);
    else this.turn.resume(generation);
    void generation.run().then((outcome) => this.generationEnded(generation, cut ? cut.outcome(outcome) : outcome));
  }

  private generationEnded(generation: Generation, outcome: TurnOutcome): void {
    // Settled already: interrupted, ended, or stopped by a blocking call.
    if (!this.turn.isRunning(generation)) return;
    this.recordModel(generation);
    switch (outcome.kind) {
      case 'complete':
        this.turn.finish();
        this.host.output()?.send(msg.generationComplete());
        this.turnEnded(true);
        return;
      case 'truncated':
        this.turn.finish();
        this.turnEnded(true);
        return;
      case 'toolCall':
      case 'aborted':
        // Not reached: those outcomes come only after the turn state moved on (see above).
        return;
      case 'failed':
        this.turn.fail();
        this.host.fail(outcome.close, outcome.detail);
        return;
    }
  }

  /**
   * A filler turn of an extended-thinking answer ended; the same generation goes on with the next
   * turn of the interaction. The session stays generating (not resumable): the request is not answered yet.
   */
  private fillerEnded(generation: Generation, parts: ContextPart[]): void {
    if (!this.turn.isRunning(generation)) return;
    const out = this.host.output();
    if (parts.length > 0) this.usage.responded(this.parts.conversation.append({ role: 'model', parts }));
    out?.send(msg.generationComplete());
    out?.send(msg.turnComplete(undefined, 'IN_PROGRESS'));
    this.completed++;
    out?.turnCompleted?.();
  }

  /** The open turn has ended (the state is idle now): turnComplete, then the reply it owes, unless a barge-in ended it. */
  private turnEnded(byItself: boolean): void {
    if (this.deferred.length > 0) {
      this.parts.conversation.append({ role: 'user', parts: this.deferred });
      this.deferred = [];
    }
    // 3.8 profiles tell the client the interaction is over (filler turns end IN_PROGRESS, above);
    // REQUIRES_ACTION (IDLE's old name) is never sent.
    const status = this.host.config().profile.interactionStatus ? 'IDLE' : undefined;
    // The totals are kept either way (control API); a model without usageMetadata (3.1) only does not send them.
    const usage = this.usage.finish();
    this.host.output()?.send(msg.turnComplete(this.host.config().profile.usageMetadata ? usage : undefined, status));
    this.completed++;
    if (byItself && this.turn.takeQueuedReply()) this.host.replyOwed();
    this.host.output()?.turnCompleted?.();
  }

  /** What the model said in this turn goes into the history, as the client received it. */
  private recordModel(generation: Generation): void {
    this.usage.counted(generation.usage);
    const parts = generation.sentParts();
    if (parts.length > 0) this.usage.responded(this.parts.conversation.append({ role: 'model', parts }));
  }
}
