/**
 * The conversation exactly as the client experienced it, and its token count: the history (from
 * the log index `firstTurn` on, since compression drops turns from the front), the number of
 * user input turns it has had, and the context window that mirrors it turn by turn.
 */
import type { Content, Tool } from '../protocol/client-schema.js';
import { ContextWindow, type CompressionEvent, type CompressionSettings } from './context-window.js';
import { isUserInput, type ContextPart, type ContextTurn } from './context.js';
import type { TokenAccountant, TokenCounts } from './tokens.js';

export interface ConversationStart {
  readonly history: readonly ContextTurn[];
  readonly firstTurn: number;
  readonly userTurns: number;
}

export class Conversation {
  private readonly turns: ContextTurn[];
  private first: number;
  private users: number;
  private readonly window: ContextWindow;

  constructor(accountant: TokenAccountant, preambleTokens: number, fixed: { systemInstruction: Content | undefined; tools: readonly Tool[] }, start?: ConversationStart) {
    this.turns = start ? [...start.history] : [];
    this.first = start?.firstTurn ?? 0;
    this.users = start?.userTurns ?? 0;
    this.window = new ContextWindow(accountant, preambleTokens);
    this.window.setFixed(fixed.systemInstruction, fixed.tools);
    for (const turn of this.turns) this.window.appended(turn);
  }

  /** Shared, not copied: a checkpoint writes only its new tail. */
  get history(): readonly ContextTurn[] {
    return this.turns;
  }

  /** Turns compression has dropped from the front since the session began: the log index of history[0]. */
  get firstTurn(): number {
    return this.first;
  }

  /** User input turns the session has had, counted as they are appended (invariant 7: no rescans). */
  get userTurns(): number {
    return this.users;
  }

  /** Tokens of the prompt now. */
  get tokens(): number {
    return this.window.tokens;
  }

  get compressionEvents(): readonly CompressionEvent[] {
    return this.window.events;
  }

  /** The prompt by modality, for the usage of a turn that starts now. */
  promptDetails(): TokenCounts {
    return this.window.promptDetails();
  }

  /** A contextUpdate changed the system instruction or the tools. */
  setFixed(systemInstruction: Content | undefined, tools: readonly Tool[]): void {
    this.window.setFixed(systemInstruction, tools);
  }

  /** Appends a turn; returns its token counts. */
  append(turn: ContextTurn): TokenCounts {
    this.turns.push(turn);
    if (isUserInput(turn)) this.users++;
    return this.window.appended(turn);
  }

  /**
   * Drops turns from the front when the context exceeds the trigger, keeping the turn `keepFrom`
   * names and all after it (compression-policy.ts). It is asked only past the trigger, since it
   * scans the history. Returns the event, or undefined when nothing was dropped.
   */
  compress(settings: CompressionSettings, keepFrom: (history: readonly ContextTurn[]) => number, now: number): CompressionEvent | undefined {
    if (this.window.tokens <= settings.triggerTokens) return undefined;
    const cut = this.window.compress(this.turns, settings, keepFrom(this.turns), now);
    if (cut === 0) return undefined;
    this.turns.splice(0, cut);
    this.first += cut;
    return this.window.events[this.window.events.length - 1]!;
  }

  /**
   * An engine's transcript that came after its speech's turn: it goes with the newest spoken user
   * turn (a late piece of one utterance that arrives after the next has begun goes with the next).
   * A turn checkpointed before its transcript arrived keeps it in memory only.
   */
  transcribeLastSpeech(text: string): void {
    for (let i = this.turns.length - 1; i >= 0; i--) {
      const turn = this.turns[i]!;
      if (turn.role !== 'user') continue;
      const speech = turn.parts.find((p): p is Extract<ContextPart, { kind: 'audio' }> => p.kind === 'audio');
      if (!speech) continue;
      speech.transcript = (speech.transcript ?? '') + text;
      return;
    }
  }
}
