/**
 * The context window of one session: token counts kept incrementally as turns are appended, and
 * sliding-window compression (PROTOCOL.md §5.5). Appending a turn costs the tokenizing of that turn
 * only; a compression costs the turns it drops and is rare (it halves the context), so the cost per
 * turn does not grow with the length of the conversation (invariant 7).
 */
import type { Content, Tool } from '../protocol/client-schema.js';
import type { ModalityTokenCount } from '../protocol/server-messages.js';
import { isUserInput, type ContextTurn } from './context.js';
import { addCounts, subtractCounts, sumCounts, type TokenAccountant, type TokenCounts } from './tokens.js';

export interface CompressionSettings {
  readonly triggerTokens: number;
  readonly targetTokens: number;
}

export interface CompressionEvent {
  readonly at: number;
  readonly tokensBefore: number;
  readonly tokensAfter: number;
  readonly turnsDropped: number;
}

/** Defaults of PROTOCOL.md §5.5: trigger at 80 % of the window, keep half of the trigger. */
export function compressionSettings(
  configured: { triggerTokens?: number; targetTokens?: number } | undefined,
  contextWindowTokens: number,
): CompressionSettings | undefined {
  if (!configured) return undefined;
  const triggerTokens = configured.triggerTokens ?? Math.floor(contextWindowTokens * 0.8);
  const targetTokens = Math.min(configured.targetTokens ?? Math.floor(triggerTokens / 2), triggerTokens);
  return { triggerTokens, targetTokens };
}

const MAX_EVENTS = 100;

export class ContextWindow {
  /** Token counts of each history turn, parallel to the history array. */
  private readonly turnCounts: TokenCounts[] = [];
  private historyCounts: TokenCounts = {};
  private fixedTokens = 0;
  readonly events: CompressionEvent[] = [];

  constructor(
    private readonly accountant: TokenAccountant,
    private readonly preambleTokens: number,
  ) {}

  /** System instruction and tools: always part of the prompt, never dropped. */
  setFixed(systemInstruction: Content | undefined, tools: readonly Tool[]): void {
    this.fixedTokens = this.accountant.fixed(systemInstruction, tools) + this.preambleTokens;
  }

  /** Counts a turn just appended to the history. Returns its counts. */
  appended(turn: ContextTurn): TokenCounts {
    const counts = this.accountant.turn(turn);
    this.turnCounts.push(counts);
    this.historyCounts = addCounts(this.historyCounts, counts);
    return counts;
  }

  /** Tokens of the whole prompt now: fixed part plus history. */
  get tokens(): number {
    return this.fixedTokens + sumCounts(this.historyCounts);
  }

  /** The prompt by modality, the fixed part counted as text. */
  promptDetails(): TokenCounts {
    return addCounts(this.historyCounts, { TEXT: this.fixedTokens });
  }

  /**
   * Drops the oldest turns when the context exceeds the trigger, until it fits the target. The
   * context then begins at a user turn, and never between a function call and its response;
   * `keepFrom` is the first turn that must stay (the input the coming turn answers). Returns how
   * many turns to remove from the front of the history (the caller splices), 0 for none.
   */
  compress(history: readonly ContextTurn[], settings: CompressionSettings, keepFrom: number, now: number): number {
    const before = this.tokens;
    if (before <= settings.triggerTokens) return 0;
    const excess = before - settings.targetTokens;
    let cut = 0;
    let dropped = 0;
    while (cut < keepFrom && dropped < excess) dropped += sumCounts(this.turnCounts[cut++]!);
    cut = nextUserInput(history, cut, keepFrom);
    cut = pairSafeCut(history, cut, keepFrom);
    if (cut === 0) return 0;
    let removed: TokenCounts = {};
    for (let i = 0; i < cut; i++) removed = addCounts(removed, this.turnCounts[i]!);
    this.turnCounts.splice(0, cut);
    this.historyCounts = subtractCounts(this.historyCounts, removed);
    this.events.push({ at: now, tokensBefore: before, tokensAfter: this.tokens, turnsDropped: cut });
    if (this.events.length > MAX_EVENTS) this.events.shift();
    return cut;
  }
}

/** The first user input turn at or after `from`, but not past `limit`. */
function nextUserInput(history: readonly ContextTurn[], from: number, limit: number): number {
  let i = from;
  while (i < limit && !isUserInput(history[i]!)) i++;
  return i;
}

/**
 * Moves a cut later while a kept function response answers a dropped call, so no response is left
 * without its call. The scan covers the kept turns, which is why compression happens only when
 * the context has doubled since the last one: its cost, spread over those turns, is constant.
 */
function pairSafeCut(history: readonly ContextTurn[], cut: number, limit: number): number {
  for (;;) {
    const droppedCalls = new Set<string>();
    for (let i = 0; i < cut; i++) for (const p of history[i]!.parts) if (p.kind === 'functionCall') droppedCalls.add(p.id);
    if (droppedCalls.size === 0) return cut;
    let orphan = -1;
    for (let i = cut; i < history.length; i++) {
      if (history[i]!.parts.some((p) => p.kind === 'functionResponse' && droppedCalls.has(p.id))) orphan = i;
    }
    if (orphan < 0) return cut;
    const next = nextUserInput(history, orphan + 1, limit);
    // No user turn after the orphaned response before the input that must stay: cut nothing there.
    if (next >= limit && !isUserInput(history[limit] ?? { role: 'model', parts: [] })) return 0;
    if (next === cut) return cut;
    cut = next;
  }
}

/** usageMetadata details: proto field order, zero counts left out (proto3 defaults). */
export function modalityDetails(counts: TokenCounts): ModalityTokenCount[] {
  const out: ModalityTokenCount[] = [];
  for (const modality of ['TEXT', 'IMAGE', 'AUDIO'] as const) {
    const n = counts[modality] ?? 0;
    if (n > 0) out.push({ modality, tokenCount: n });
  }
  return out;
}
