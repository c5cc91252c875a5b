/**
 * Where a Live session may be handed to a new connection without losing or repeating anything.
 * Pure bookkeeping over the frames one side of the wire sees; relive/client and the gateway feed
 * it the same way and ask the same question, so both rotate at the same places.
 *
 * A boundary is:
 * - the last turnComplete ended the interaction: interactionStatus IDLE, REQUIRES_ACTION (IDLE's
 *   old name), or none at all (models before 3.8 send none; every turnComplete ends it there).
 *   A 3.8 extended-thinking filler turn ends with IN_PROGRESS: the answer is still to come.
 * - no tool call is owed: a toolResponse answers an id, toolCallCancellation withdraws it, a
 *   response with scheduling SILENT clears it (the model will say nothing more about it), and a
 *   response with willContinue keeps it (more responses for the same call follow).
 * - a sessionResumptionUpdate {resumable: true, newHandle} came after that turnComplete, with no
 *   model output in between. Only such a handle is a boundary handle. Agent Platform marks every
 *   update resumable, including those sent mid-answer; resuming with one of those would restart
 *   the answer half-way (or repeat it), so it is never trusted as a place to resume from.
 */

/** What `onServer` made of one server frame, for a caller that keeps handles. */
export interface ServerFrameEffect {
  /** The frame carried a resumable handle that marks a boundary: resume with this one. */
  readonly boundaryHandle?: string;
  /** The frame carried a resumable handle sent mid-interaction: not a place to resume from. */
  readonly untrustedHandle?: string;
  /** The frame was a turnComplete that ended the interaction. */
  readonly settled?: true;
}

export class InteractionBoundary {
  /** The last turnComplete ended the interaction and no model output came since. */
  private atRest = true;
  /** A boundary handle came since the last settling turnComplete (or since setup, before any turn). */
  private handleSinceRest = false;
  private handle: string | undefined;
  private readonly pending = new Set<string>();

  /** The newest boundary handle; undefined until one came. */
  get boundaryHandle(): string | undefined {
    return this.handle;
  }

  /** Tool call ids the model still waits on. */
  get pendingCalls(): ReadonlySet<string> {
    return this.pending;
  }

  /** The session is at a boundary now: rotating here, with `boundaryHandle`, loses and repeats nothing. */
  get atBoundary(): boolean {
    return this.atRest && this.handleSinceRest && this.pending.size === 0 && this.handle !== undefined;
  }

  /** The interaction ended and its handle is still on the way (it follows turnComplete once committed). */
  get handleOwed(): boolean {
    return this.atRest && !this.handleSinceRest;
  }

  /**
   * A new connection was set up: nothing is mid-answer on it. `resumedWith` is the handle it
   * resumed with (that handle marks this very point); undefined for a fresh or seeded session.
   * Calls owed before stay owed: a resumed session still waits for their responses.
   */
  reset(resumedWith: string | undefined): void {
    this.atRest = true;
    this.handle = resumedWith;
    this.handleSinceRest = resumedWith !== undefined;
    if (resumedWith === undefined) this.pending.clear();
  }

  onServer(frame: Record<string, unknown>): ServerFrameEffect {
    const sc = frame.serverContent as { modelTurn?: unknown; turnComplete?: boolean; interactionStatus?: string } | undefined;
    const call = frame.toolCall as { functionCalls?: { id?: string }[] } | undefined;
    const cancel = frame.toolCallCancellation as { ids?: string[] } | undefined;
    const update = frame.sessionResumptionUpdate as { newHandle?: string; resumable?: boolean } | undefined;
    if (sc?.modelTurn || call) this.leaveRest();
    for (const fc of call?.functionCalls ?? []) if (fc.id) this.pending.add(fc.id);
    for (const id of cancel?.ids ?? []) this.pending.delete(id);
    let settled = false;
    if (sc?.turnComplete) {
      const status = sc.interactionStatus;
      settled = status === undefined || status === 'IDLE' || status === 'REQUIRES_ACTION';
      if (settled) {
        this.atRest = true;
        this.handleSinceRest = false;
      } else this.leaveRest();
    }
    if (update?.resumable && update.newHandle) {
      if (this.atRest) {
        this.handle = update.newHandle;
        this.handleSinceRest = true;
        return settled ? { boundaryHandle: update.newHandle, settled: true } : { boundaryHandle: update.newHandle };
      }
      return { untrustedHandle: update.newHandle };
    }
    return settled ? { settled: true } : {};
  }

  /** A client frame: only tool responses matter here. */
  onClient(frame: Record<string, unknown>): void {
    const tr = frame.toolResponse as { functionResponses?: { id?: string; willContinue?: boolean; scheduling?: string }[] } | undefined;
    for (const fr of tr?.functionResponses ?? []) {
      if (!fr.id) continue;
      if (fr.willContinue && fr.scheduling !== 'SILENT') continue;
      this.pending.delete(fr.id);
    }
  }

  private leaveRest(): void {
    this.atRest = false;
    this.handleSinceRest = false;
  }
}
