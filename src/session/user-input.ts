/**
 * The user's side of the turn to come: realtime input not yet part of a user turn, the speech a
 * voice input measured in it and the words heard, and what decides which of it a spoken turn
 * holds (PROTOCOL.md §6.5). It knows nothing of the model's turn; the session decides when the
 * input becomes a turn (`take`).
 */
import type { SessionConfig } from './config.js';
import type { ContextPart } from './context.js';
import type { VoiceCapabilities } from './speech-port.js';

type InputSettings = Pick<SessionConfig, 'automaticActivityDetection' | 'turnCoverage'>;

export class UserInput {
  /** Realtime input not yet part of a user turn. */
  private pending: ContextPart[];
  private videoSeen = false;
  /** A voice detector decides where turns end (automatic activity detection with a detector). */
  private voiceDetection = false;
  /** Manual-mode turns wait for their transcript at activityEnd, and one is waiting now. */
  private transcriptsFollow = false;
  private waiting = false;
  /** The user is speaking: transcripts an engine reports now belong to the turn to come. */
  private speakingNow = false;
  /** Speech measured since the last turn, and what the recognizer made of it. */
  private heardSeconds = 0;
  private heardTranscript: string | undefined;

  constructor(
    private readonly settings: InputSettings,
    restored: readonly ContextPart[] = [],
  ) {
    this.pending = structuredClone([...restored]);
  }

  /**
   * A voice input opened on this session's audio. Its detector takes turns only under automatic
   * activity detection; its recognizer makes manual-mode turns wait for their words.
   */
  voiceOpened(provides: VoiceCapabilities): void {
    this.voiceDetection = provides.detectsSpeech && this.settings.automaticActivityDetection;
    if (provides.transcribes) this.transcriptsFollow = true;
  }

  /** A detector decides where speech ends: silence alone is no turn. */
  get detectsSpeech(): boolean {
    return this.voiceDetection;
  }

  /** A manual activity has ended and its turn waits for the recognizer's words. */
  get awaitingTranscript(): boolean {
    return this.waiting;
  }

  /** The user is speaking now: within an activity, or since audio began when no detector marks speech. */
  get speaking(): boolean {
    return this.speakingNow;
  }

  get hasAudio(): boolean {
    return this.pending.some((p) => p.kind === 'audio');
  }

  /** The user began speaking (activityStart, or the detector's start of speech). */
  speechBegan(): void {
    this.speakingNow = true;
  }

  addAudio(seconds: number): void {
    // Without a detector, all audio until the turn ends is the user's speech.
    if (!this.voiceDetection) this.speakingNow = true;
    const last = this.pending[this.pending.length - 1];
    if (last?.kind === 'audio') last.seconds += seconds;
    else this.pending.push({ kind: 'audio', seconds });
  }

  /** Returns true for the session's first image: the shorter video lifetime applies from then on. */
  addImage(mimeType: string): boolean {
    this.pending.push({ kind: 'image', mimeType });
    if (this.videoSeen) return false;
    this.videoSeen = true;
    return true;
  }

  addText(text: string): void {
    this.pending.push({ kind: 'text', text });
  }

  /** activityEnd: true when the turn now waits for its transcript instead of going at once. */
  activityEnded(): boolean {
    if (!this.transcriptsFollow) return false;
    this.waiting = true;
    return true;
  }

  /** The detector's end of speech: `seconds` of it, with the words when a recognizer had them. */
  speechMeasured(seconds: number, transcript: string | undefined): void {
    this.heardSeconds += seconds;
    this.addTranscript(transcript);
  }

  /** The words of the manual activity that waited for them (undefined: none came in time). */
  transcriptArrived(transcript: string | undefined): void {
    this.waiting = false;
    this.addTranscript(transcript);
  }

  /** An engine's transcript of the user's speech: kept for the coming turn while the user speaks (true), else not (false). */
  keepEngineTranscript(text: string): boolean {
    if (!this.speakingNow) return false;
    this.heardTranscript = (this.heardTranscript ?? '') + text;
    return true;
  }

  /** Something to answer: under a voice detector, silence alone is not a turn (PROTOCOL.md §6.5). */
  hasTurnInput(): boolean {
    if (this.pending.length === 0) return false;
    if (!this.voiceDetection || this.settings.turnCoverage === 'ALL_INPUT' || this.heardSeconds > 0) return true;
    return this.pending.some((p) => p.kind !== 'audio');
  }

  /** The input a turn is made of, and a fresh start: under a voice detector, silence is not part of a spoken turn. */
  take(): ContextPart[] {
    const input = this.pending;
    this.pending = [];
    const seconds = this.heardSeconds;
    const transcript = this.heardTranscript;
    this.heardSeconds = 0;
    this.heardTranscript = undefined;
    this.speakingNow = false;
    if (!this.voiceDetection || this.settings.turnCoverage === 'ALL_INPUT') {
      // All audio since the last turn counts; the transcript rides on it.
      return transcript ? input.map((p) => (p.kind === 'audio' ? { ...p, transcript } : p)) : input;
    }
    const speech: ContextPart = transcript ? { kind: 'audio', seconds, transcript } : { kind: 'audio', seconds };
    const rest = input.filter((p) => p.kind !== 'audio');
    return seconds > 0 ? [speech, ...rest] : rest;
  }

  /** For a checkpoint: a copy, since the pending audio part grows in place. */
  snapshot(): ContextPart[] {
    return structuredClone(this.pending);
  }

  private addTranscript(transcript: string | undefined): void {
    if (transcript) this.heardTranscript = this.heardTranscript ? `${this.heardTranscript} ${transcript}` : transcript;
  }
}
