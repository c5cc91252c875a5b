/**
 * Token use of the turn in progress and of the session so far: what the prompt held when the
 * turn started, what the model said in it, and the backend's own counts when it reports them.
 * The turn's usageMetadata is made from these at turnComplete.
 */
import type { UsageMetadata } from '../protocol/server-messages.js';
import { modalityDetails } from './context-window.js';
import { addCounts, sumCounts, type TokenCounts } from './tokens.js';

/** Token use of the session so far, for the control API. */
export interface TokenTotals {
  promptTokens: number;
  responseTokens: number;
}

export interface BackendCounts {
  readonly promptTokens: number;
  readonly responseTokens: number;
}

export class TurnUsage {
  private prompt: TokenCounts = {};
  private response: TokenCounts = {};
  /** The backend's counts for the turn in progress, summed over its generations. */
  private backend: BackendCounts | undefined;
  private readonly sums: TokenTotals = { promptTokens: 0, responseTokens: 0 };

  get totals(): Readonly<TokenTotals> {
    return this.sums;
  }

  /** A model turn starts with this prompt. */
  begin(prompt: TokenCounts): void {
    this.prompt = prompt;
    this.response = {};
  }

  /** The model said this much in the turn (a model turn appended to the history). */
  responded(counts: TokenCounts): void {
    this.response = addCounts(this.response, counts);
  }

  /** A generation of the turn ended with the backend's own count of it, if it gave one. */
  counted(usage: BackendCounts | undefined): void {
    if (!usage) return;
    const sum = this.backend ?? { promptTokens: 0, responseTokens: 0 };
    this.backend = { promptTokens: sum.promptTokens + usage.promptTokens, responseTokens: sum.responseTokens + usage.responseTokens };
  }

  /** The turn ends: its usageMetadata, added to the totals. */
  finish(): UsageMetadata {
    // A backend that counts (OpenAI-compatible usage) is believed over relive's own estimate.
    const backend = this.backend;
    this.backend = undefined;
    const promptTokenCount = backend?.promptTokens ?? sumCounts(this.prompt);
    const responseTokenCount = backend?.responseTokens ?? sumCounts(this.response);
    this.sums.promptTokens += promptTokenCount;
    this.sums.responseTokens += responseTokenCount;
    return {
      promptTokenCount,
      responseTokenCount,
      totalTokenCount: promptTokenCount + responseTokenCount,
      promptTokensDetails: modalityDetails(this.prompt),
      responseTokensDetails: modalityDetails(this.response),
    };
  }
}
