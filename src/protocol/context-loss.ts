/**
 * The context-loss check, the same for the gateway and relive/client: a Live session resumed by
 * handle should hold the whole conversation, so the first turn after the resume is prompted with
 * at least what the session counted before it (the new input comes on top). A
 * usageMetadata.promptTokenCount far below that means the service resumed the session without its
 * history (a lost context; relive's `dropHistoryOnResume` fault makes one), and the conversation
 * has to be given to it again.
 */

/** Below this share of the tokens counted before the resume, the context is taken as lost. */
export const CONTEXT_LOSS_RATIO = 0.5;

/**
 * `tokensBefore`: what the session held at its last turnComplete before the resume (that turn's
 * prompt plus response); `promptTokensAfter`: the prompt of the first turn after it.
 */
export function contextLost(promptTokensAfter: number, tokensBefore: number): boolean {
  return tokensBefore > 0 && promptTokensAfter < tokensBefore * CONTEXT_LOSS_RATIO;
}

/** What a turnComplete's usageMetadata says the session holds after that turn: prompt plus response. */
export function tokensHeld(usage: { promptTokenCount?: number; responseTokenCount?: number; totalTokenCount?: number } | undefined): number | undefined {
  if (!usage) return undefined;
  if (usage.promptTokenCount === undefined && usage.totalTokenCount === undefined) return undefined;
  return (usage.promptTokenCount ?? 0) + (usage.responseTokenCount ?? 0) || usage.totalTokenCount;
}
