/**
 * The function calls a session has issued and the client has not answered yet, across turns
 * (NON_BLOCKING calls outlive the turn that issued them, and a checkpoint keeps them), and the
 * matching of the client's responses to them.
 */
import type { FunctionResponse } from '../protocol/client-schema.js';
import type { ContextPart } from './context.js';
import type { IssuedCall } from './generation.js';

/** When the model answers a NON_BLOCKING call's response (PROTOCOL.md §3.4). */
export type Scheduling = 'SILENT' | 'WHEN_IDLE' | 'INTERRUPT';

export interface ToolAnswer {
  /** The responses that matched a pending call, as they go into the history. */
  readonly parts: ContextPart[];
  /** The most urgent scheduling among the NON_BLOCKING calls answered; SILENT when none asks for more. */
  readonly schedule: Scheduling;
  /** Responses that matched no pending call, passed over (loose mode). */
  readonly ignored: readonly FunctionResponse[];
  /** The first response that matched no pending call, in strict mode: the rest were not looked at. */
  readonly refused?: FunctionResponse;
}

export class ToolCalls {
  private readonly pending = new Map<string, IssuedCall>();
  /** Pending calls whose last response said willContinue with SILENT: the model says nothing more of them. */
  private readonly quiet = new Set<string>();

  constructor(restored: readonly IssuedCall[] = []) {
    for (const call of restored) this.pending.set(call.id, call);
  }

  /** Ids of the calls not answered yet, in the order they were issued. */
  get ids(): string[] {
    return [...this.pending.keys()];
  }

  get calls(): IssuedCall[] {
    return [...this.pending.values()];
  }

  /**
   * A call the model still owes something for: pending and not quieted by a SILENT willContinue
   * response. While one is, the session is not at an interaction boundary (no resumable handle).
   */
  get owed(): boolean {
    return [...this.pending.keys()].some((id) => !this.quiet.has(id));
  }

  get hasBlocking(): boolean {
    return [...this.pending.values()].some((c) => c.blocking);
  }

  issued(calls: readonly IssuedCall[]): void {
    for (const call of calls) this.pending.set(call.id, call);
  }

  /**
   * Matches responses to pending calls, in order. A response answers its call for good unless
   * it says willContinue. `strict`: stop at the first response that matches nothing.
   */
  answer(responses: readonly FunctionResponse[], strict: boolean): ToolAnswer {
    const parts: ContextPart[] = [];
    const ignored: FunctionResponse[] = [];
    let schedule: Scheduling = 'SILENT';
    for (const fr of responses) {
      // Match on id; Mastra sends no name, and a response without id can only match by name.
      const call = fr.id !== undefined ? this.pending.get(fr.id) : [...this.pending.values()].find((c) => c.name === fr.name);
      if (!call) {
        if (strict) return { parts, schedule, ignored, refused: fr };
        ignored.push(fr);
        continue;
      }
      parts.push({ kind: 'functionResponse', id: call.id, name: call.name, response: fr.response ?? {} });
      // The top-level field wins over the one inside `response` (PROTOCOL.md §11 #11).
      const s = call.blocking ? undefined : (fr.scheduling ?? (fr.response?.scheduling as string | undefined) ?? 'WHEN_IDLE');
      if (!fr.willContinue) {
        this.pending.delete(call.id);
        this.quiet.delete(call.id);
      } else if (s === 'SILENT') this.quiet.add(call.id);
      else this.quiet.delete(call.id);
      if (s === 'INTERRUPT' || (s === 'WHEN_IDLE' && schedule === 'SILENT')) schedule = s;
    }
    return { parts, schedule, ignored };
  }

  /**
   * A barge-in withdraws pending calls and those the interrupted generation issued: the ids for
   * toolCallCancellation, pending ones first. `blockingOnly` (3.8): NON_BLOCKING calls run on.
   */
  withdraw(issuedByGeneration: readonly IssuedCall[], blockingOnly = false): string[] {
    const cancels = (call: IssuedCall) => !blockingOnly || call.blocking;
    const cancelled = [...this.pending.values()].filter(cancels).map((c) => c.id);
    for (const call of issuedByGeneration) if (cancels(call) && !cancelled.includes(call.id)) cancelled.push(call.id);
    for (const id of cancelled) {
      this.pending.delete(id);
      this.quiet.delete(id);
    }
    return cancelled;
  }
}
