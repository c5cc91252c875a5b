/**
 * What the session core needs to hear (DESIGN.md "Media"): voice activity detection to take turns
 * from a raw microphone stream, and speech recognition for inputTranscription. Declared here so
 * that the adapters (Silero on onnxruntime, pocketsphinx) depend on the core, never the reverse.
 * Both work on 16 kHz mono PCM16; the caller resamples other rates first.
 */

export const INPUT_SAMPLE_RATE = 16_000;

/** realtimeInputConfig.automaticActivityDetection, resolved (PROTOCOL.md §4: UNSPECIFIED is HIGH on the Gemini API). */
export interface VadSettings {
  readonly startSensitivity: 'HIGH' | 'LOW';
  readonly endSensitivity: 'HIGH' | 'LOW';
  /** Speech that must last this long before start-of-speech is committed; default from the sensitivity. */
  readonly prefixPaddingMs?: number;
  /** Non-speech that must last this long before end-of-speech is committed; default from the sensitivity. */
  readonly silenceDurationMs?: number;
}

/**
 * `atMs`: position in the stream (milliseconds of audio pushed so far) where the speech began or
 * where it ended (the first non-speech frame); the event itself comes once it is committed.
 */
export type VadEvent = { readonly type: 'speechStart'; readonly atMs: number } | { readonly type: 'speechEnd'; readonly atMs: number };

/** One session's stream through the detector: push audio in order, get the events it commits. */
export interface VadStream {
  /** Any number of samples; calls must not overlap (await each before the next). */
  push(pcm16k: Int16Array): Promise<VadEvent[]>;
  /** Milliseconds of audio pushed so far. */
  readonly positionMs: number;
  close(): void;
}

export interface VoiceActivityDetector {
  readonly name: string;
  open(settings: VadSettings): VadStream;
}

/** One session's stream through a recognizer: text comes back per utterance, in its own time. */
export interface RecognitionStream {
  write(pcm16k: Int16Array): void;
  /** Called with the text of each utterance the recognizer finishes. */
  onText(listener: (text: string) => void): void;
  /**
   * The voice detector says the utterance ended: a recognizer that works on whole utterances
   * transcribes what it holds now. Streaming recognizers, which find utterances themselves, leave it out.
   */
  endOfSpeech?(): void;
  close(): void;
}

export interface SpeechRecognizer {
  readonly name: string;
  /** A stream, or undefined when the recognizer is not available on this machine (logged once by it). */
  open(): RecognitionStream | undefined;
  close(): Promise<void>;
}
