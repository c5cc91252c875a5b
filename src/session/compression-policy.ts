/**
 * Where sliding-window compression may cut (PROTOCOL.md §5.5): the session decides which turns
 * must stay, the context window decides how many of the rest to drop.
 */
import { isUserInput, type ContextTurn } from './context.js';

/**
 * The first turn that must stay: the user input the coming turn answers, or, when a function call
 * is still unanswered, the user input before that call, so the call stays with the response
 * still to come.
 */
export function compressionKeepFrom(history: readonly ContextTurn[], pendingCallIds: readonly string[]): number {
  let keepFrom = lastUserInputAtOrBefore(history, history.length - 1);
  if (pendingCallIds.length > 0) {
    const pending = new Set(pendingCallIds);
    const callTurn = history.findIndex((t) => t.parts.some((p) => p.kind === 'functionCall' && pending.has(p.id)));
    if (callTurn >= 0 && callTurn < keepFrom) keepFrom = lastUserInputAtOrBefore(history, callTurn);
  }
  return keepFrom;
}

/** The user input turn at or before `from`, or 0 when there is none. */
function lastUserInputAtOrBefore(history: readonly ContextTurn[], from: number): number {
  let i = from;
  while (i > 0 && !isUserInput(history[i]!)) i--;
  return i;
}
