/**
 * Turns per-window speech probabilities (Silero: one per 512 samples = 32 ms at 16 kHz) into
 * speechStart / speechEnd events with hysteresis (AUDIO.md §3.2). Pure and synchronous, so the
 * timing rules are testable without a model.
 *
 * Rules:
 * - Idle → speaking when `probability ≥ startThreshold` holds for consecutive windows spanning at
 *   least `prefixPaddingMs`; any window below the threshold restarts the count (a click or a
 *   single loud frame never starts a turn).
 * - Speaking → idle when `probability < endThreshold` holds for consecutive windows spanning at
 *   least `silenceDurationMs`; any window at or above endThreshold restarts the count. Between the
 *   two thresholds nothing changes, which keeps a talker's soft syllables inside one segment.
 * - Durations round up to whole windows (a window is the smallest unit the model decides on), and
 *   at least one window is always needed.
 * - `atMs` is where the run that committed the event began (VadEvent in session/voice.ts): the
 *   first speech window for speechStart, the first non-speech window for speechEnd. The event
 *   itself is returned only once the run is long enough, i.e. `atMs + duration` later.
 */
import type { VadEvent, VadSettings } from '../../session/voice.js';

/** Silero v5 at 16 kHz: 512-sample windows. */
export const SILERO_WINDOW_MS = 32;

export interface SegmenterOptions {
  readonly startThreshold: number;
  readonly endThreshold: number;
  readonly prefixPaddingMs: number;
  readonly silenceDurationMs: number;
}

/**
 * Defaults per sensitivity.
 * - Start HIGH: Silero's own 0.5 threshold over 2 windows (64 ms). One window alone lets door
 *   clicks and keyboard taps through; two keep barge-in about 100 ms after onset (AUDIO.md §3.2).
 * - Start LOW: 0.6 over 5 windows (160 ms), about one stressed syllable, so coughs, "mm" and short
 *   bursts of background talk are ignored at the cost of ~100 ms later barge-in.
 * - End HIGH ends sooner (300 ms: a normal pause between phrases ends the turn, for snappy replies);
 *   LOW waits 800 ms, so a speaker who pauses to think keeps the turn.
 * - End threshold 0.35 for both: Silero's recommended "threshold − 0.15" hysteresis.
 */
export const START_DEFAULTS = {
  HIGH: { startThreshold: 0.5, prefixPaddingMs: 64 },
  LOW: { startThreshold: 0.6, prefixPaddingMs: 160 },
} as const;
export const END_DEFAULTS = {
  HIGH: { silenceDurationMs: 300 },
  LOW: { silenceDurationMs: 800 },
} as const;
export const END_THRESHOLD = 0.35;

/** Settings from the session (explicit ms values win over the sensitivity defaults). */
export function segmenterOptions(settings: VadSettings): SegmenterOptions {
  const start = START_DEFAULTS[settings.startSensitivity] ?? START_DEFAULTS.HIGH;
  const end = END_DEFAULTS[settings.endSensitivity] ?? END_DEFAULTS.HIGH;
  return {
    startThreshold: start.startThreshold,
    endThreshold: END_THRESHOLD,
    prefixPaddingMs: validMs(settings.prefixPaddingMs) ?? start.prefixPaddingMs,
    silenceDurationMs: validMs(settings.silenceDurationMs) ?? end.silenceDurationMs,
  };
}

/** Client-supplied int32: negative or non-numeric values fall back to the default rather than throw. */
function validMs(ms: number | undefined): number | undefined {
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

export class SpeechSegmenter {
  readonly options: SegmenterOptions;
  private readonly windowMs: number;
  private readonly startWindows: number;
  private readonly endWindows: number;
  private windowIndex = 0;
  private inSpeech = false;
  /** Length of the current qualifying run (speech while idle, non-speech while speaking). */
  private run = 0;

  constructor(options: SegmenterOptions, windowMs = SILERO_WINDOW_MS) {
    this.options = options;
    this.windowMs = windowMs;
    this.startWindows = Math.max(1, Math.ceil(options.prefixPaddingMs / windowMs));
    this.endWindows = Math.max(1, Math.ceil(options.silenceDurationMs / windowMs));
  }

  static fromSettings(settings: VadSettings, windowMs = SILERO_WINDOW_MS): SpeechSegmenter {
    return new SpeechSegmenter(segmenterOptions(settings), windowMs);
  }

  get speaking(): boolean {
    return this.inSpeech;
  }

  /** Milliseconds of audio covered by the windows pushed so far. */
  get positionMs(): number {
    return this.windowIndex * this.windowMs;
  }

  /** The next window's speech probability; returns the event it commits, if any. */
  push(probability: number): VadEvent | undefined {
    const index = this.windowIndex++;
    if (!this.inSpeech) {
      this.run = probability >= this.options.startThreshold ? this.run + 1 : 0;
      if (this.run < this.startWindows) return undefined;
      this.inSpeech = true;
      this.run = 0;
      return { type: 'speechStart', atMs: (index - this.startWindows + 1) * this.windowMs };
    }
    this.run = probability < this.options.endThreshold ? this.run + 1 : 0;
    if (this.run < this.endWindows) return undefined;
    this.inSpeech = false;
    this.run = 0;
    return { type: 'speechEnd', atMs: (index - this.endWindows + 1) * this.windowMs };
  }
}
