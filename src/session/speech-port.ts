/**
 * The one port between a session and the voice input that hears its audio (server/voice-input.ts:
 * a voice activity detector and a speech recognizer). The voice input reads the realtime input
 * itself; it opens the port once it knows what it can provide (at the first audio, so a text-only
 * session opens nothing), and from then on reports speech through the sink.
 *
 * An engine that hears the audio itself (the gateway) reports its own transcripts on a separate
 * path (engine-link.ts); they do not come through here.
 */
import type { SessionConfig } from './config.js';

/** What a voice input provides for a session, fixed when it opens. */
export interface VoiceCapabilities {
  /** A detector finds where speech starts and ends: under automatic activity detection, it takes the turns. */
  readonly detectsSpeech: boolean;
  /** A recognizer transcribes the speech: in manual mode a turn waits at activityEnd for its words. */
  readonly transcribes: boolean;
}

/** Speech as the voice input hears it. Each call has one meaning. */
export interface SpeechSink {
  /** The detector heard speech begin: a barge-in when the model is answering (START_OF_ACTIVITY_INTERRUPTS). */
  speechStarted(): void;
  /**
   * The user's speech ended, and its turn may go: `seconds` of speech as the detector measured it,
   * or undefined at the end of a manual activity (activityEnd; the session counted that audio
   * itself). `transcript`: the recognizer's words for it, when they came in time.
   */
  speechEnded(seconds: number | undefined, transcript?: string): void;
  /** The recognizer's text of the user's speech, as it comes: inputTranscription when the client asked for it. */
  heard(text: string): void;
}

/** What a voice input needs of its session. */
export interface SpeechSession {
  readonly id: string;
  readonly config: SessionConfig;
  /** Opens the port: says what the voice input provides, and returns where its speech goes. */
  openSpeech(provides: VoiceCapabilities): SpeechSink;
}
