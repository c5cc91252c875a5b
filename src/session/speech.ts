/**
 * What the session core needs from text-to-speech. Declared here, next to the core, so that
 * engines and the turn runner depend on this contract and never on a particular synthesizer.
 */
export interface SpeechSynthesizer {
  /**
   * Speaks `text` and resolves with raw 24 kHz mono PCM16LE samples, the Live API's output format.
   * `voice` is a Gemini prebuilt voice name (Puck, Kore, …); unknown names fall back to a default.
   * Rejects with an AbortError when `signal` fires first.
   */
  synthesize(text: string, options?: { voice?: string; signal?: AbortSignal }): Promise<Buffer>;
  /** Frees workers and other resources; later calls reject. */
  close(): Promise<void>;
}

/** Output sample rate of every Live API audio reply. */
export const OUTPUT_SAMPLE_RATE = 24_000;
