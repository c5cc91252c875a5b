/**
 * Where a session is in its turn cycle, as one value with the only transitions allowed between
 * them. The session's public status and whether it is resumable are read from it, never from
 * flags; a transition from the wrong state is a bug in the session and throws TurnStateError.
 *
 *                start                   blocking call (awaitTool)
 *   ┌──────┐ ────────────▶ ┌────────────┐ ────────────────────────▶ ┌──────────────┐
 *   │ idle │ ◀───finish─── │ generating │ ◀─────────resume───────── │ awaitingTool │
 *   └──────┘ ◀──interrupt─ └────────────┘                           └──────────────┘
 *      ▲                         │ fail                                    │
 *      └─────────────────────────┼─────────────── interrupt ───────────────┘
 *                                ▼
 *                           ┌────────┐
 *                           │ failed │  the connection is closing
 *                           └────────┘
 *   any state ── end ──▶ ended: the connection is gone, nothing follows
 *
 * `finish` is a turn that ended by itself (complete, or cut short by an injected fault); the
 * generation's outcome decides which messages go with it, not this state. Alongside the state,
 * `replyQueued` remembers that input (or a WHEN_IDLE tool response) arrived during a turn that
 * could not be interrupted: the next turn that finishes by itself runs the reply. It survives a
 * barge-in on purpose: the input it waits for is still pending after one.
 *
 * Where the next issues plug in (issue #16 builds them; this step only leaves room):
 * - Interaction status (a model profile where one request gives several turnCompletes, e.g.
 *   extended thinking): `generating` and `awaitingTool` gain an `interaction` (the request and the
 *   turns it has had so far), and a `continue(generation)` transition generating → generating
 *   closes one turn and opens the next of the same interaction; `resumable` then also requires
 *   that no interaction is open.
 * NON_BLOCKING calls need no state of their own: the generation goes on in `generating`, the
 * calls live in ToolCalls (tool-calls.ts), and a response uses the existing transitions (interrupt
 * + start for INTERRUPT, `replyQueued` for WHEN_IDLE). A call still owed keeps the session from
 * being resumable (LiveSession.resumable), whatever the phase.
 */

export type TurnPhase<G> =
  /** No turn open: input may start one. The only phase a session can be resumable in. */
  | { readonly kind: 'idle' }
  /** A model turn is open and its generation runs. */
  | { readonly kind: 'generating'; readonly generation: G }
  /** A model turn is open, waiting for the client's responses to blocking function calls. */
  | { readonly kind: 'awaitingTool' }
  /** The generation failed the connection (a scripted 1011, an engine error); it is closing. */
  | { readonly kind: 'failed' }
  /** The connection ended: nothing more is applied or sent. */
  | { readonly kind: 'ended' };

export type TurnPhaseKind = TurnPhase<unknown>['kind'];

/** A transition asked for in a state that does not allow it: a bug in the session, not bad input. */
export class TurnStateError extends Error {
  constructor(transition: string, from: TurnPhaseKind) {
    super(`turn state: ${transition} is not allowed from ${from}`);
    this.name = 'TurnStateError';
  }
}

/** The session's status as the control API shows it. */
export type SessionStatus = 'idle' | 'generating' | 'awaitingTool' | 'ended';

/** A failed turn reads as one open with nothing generating (as before the state was explicit). */
export function statusOf(phase: TurnPhase<unknown>): SessionStatus {
  switch (phase.kind) {
    case 'idle':
      return 'idle';
    case 'generating':
      return 'generating';
    case 'awaitingTool':
    case 'failed':
      return 'awaitingTool';
    case 'ended':
      return 'ended';
  }
}

const IDLE = { kind: 'idle' } as const;
const AWAITING_TOOL = { kind: 'awaitingTool' } as const;
const FAILED = { kind: 'failed' } as const;
const ENDED = { kind: 'ended' } as const;

export class TurnState<G> {
  private current: TurnPhase<G> = IDLE;
  /** A reply is owed once the turn in progress finishes by itself (see the header). */
  private queued = false;

  get phase(): TurnPhase<G> {
    return this.current;
  }

  /** A model turn is open (its turnComplete is not sent yet). */
  get open(): boolean {
    const kind = this.current.kind;
    return kind === 'generating' || kind === 'awaitingTool' || kind === 'failed';
  }

  /** Input is still applied: neither failed nor ended. */
  get live(): boolean {
    return this.current.kind !== 'failed' && this.current.kind !== 'ended';
  }

  /** True while `generation` is the one running: its late results belong to this turn. */
  isRunning(generation: G): boolean {
    return this.current.kind === 'generating' && this.current.generation === generation;
  }

  get replyQueued(): boolean {
    return this.queued;
  }

  /** idle → generating: a new model turn. */
  start(generation: G): void {
    this.expect('start', 'idle');
    this.current = { kind: 'generating', generation };
  }

  /** generating → awaitingTool: the generation issued a blocking call and ended there. */
  awaitTool(): void {
    this.expect('awaitTool', 'generating');
    this.current = AWAITING_TOOL;
  }

  /** awaitingTool → generating: every blocking call is answered; the same turn goes on. */
  resume(generation: G): void {
    this.expect('resume', 'awaitingTool');
    this.current = { kind: 'generating', generation };
  }

  /** generating → idle: the turn ended by itself. */
  finish(): void {
    this.expect('finish', 'generating');
    this.current = IDLE;
  }

  /** generating | awaitingTool → idle: a barge-in. Returns the generation it stops, if one ran. */
  interrupt(): G | undefined {
    const from = this.current;
    if (from.kind !== 'generating' && from.kind !== 'awaitingTool') throw new TurnStateError('interrupt', from.kind);
    this.current = IDLE;
    return from.kind === 'generating' ? from.generation : undefined;
  }

  /** generating → failed: the generation failed the connection. */
  fail(): void {
    this.expect('fail', 'generating');
    this.current = FAILED;
  }

  /** Any state → ended (again from ended: nothing changes). Returns the generation it stops, if one ran. */
  end(): G | undefined {
    const from = this.current;
    this.current = ENDED;
    this.queued = false;
    return from.kind === 'generating' ? from.generation : undefined;
  }

  /** Owe a reply for when the open turn finishes by itself. */
  queueReply(): void {
    if (!this.open) throw new TurnStateError('queueReply', this.current.kind);
    this.queued = true;
  }

  /** Takes the owed reply, when idle after a turn that finished by itself. */
  takeQueuedReply(): boolean {
    if (this.current.kind !== 'idle') throw new TurnStateError('takeQueuedReply', this.current.kind);
    const queued = this.queued;
    this.queued = false;
    return queued;
  }

  private expect(transition: string, kind: TurnPhaseKind): void {
    if (this.current.kind !== kind) throw new TurnStateError(transition, this.current.kind);
  }
}
