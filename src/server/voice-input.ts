/**
 * A session's ears: realtime audio is decoded, resampled to 16 kHz, and run through the voice
 * activity detector (turn taking, barge-in) and the speech recognizer (inputTranscription). The
 * session core decides what a turn is; this adapter tells it, through its one speech port
 * (session/speech-port.ts), when speech starts and ends, and what was said. It reads the
 * realtime input itself, by the session's own rule for which blobs count (realtimeBlobs).
 *
 * Audio is processed in arrival order on one promise chain per session, off the message path:
 * the session has already counted the audio when it arrives; the detector's verdict follows a
 * few milliseconds later.
 */
import { performance } from 'node:perf_hooks';
import { errorMessage } from '../errors.js';
import { createPcm16Resampler, type Pcm16Resampler } from '../media/pcm/resampler.js';
import type { RealtimeInput } from '../protocol/client-schema.js';
import { pcmRate } from '../session/context.js';
import type { CoreLogger } from '../session/live-session.js';
import { realtimeBlobs } from '../session/realtime-blobs.js';
import type { SpeechSession, SpeechSink } from '../session/speech-port.js';
import { INPUT_SAMPLE_RATE, type RecognitionStream, type SpeechRecognizer, type VadStream, type VoiceActivityDetector } from '../session/voice.js';

export interface VoiceDeps {
  readonly vad: VoiceActivityDetector | undefined;
  readonly recognizer: SpeechRecognizer | undefined;
  /** The engine cannot hear audio: transcribe every session's speech for it. */
  readonly transcribeForEngine: boolean;
  /** The engine hears the audio and transcribes it itself (the gateway): no recognizer at all. */
  readonly engineTranscribes?: boolean;
  readonly log: CoreLogger;
  /** How long a turn waits after end of speech for the recognizer's text (pocketsphinx needs 0.5–1.2 s). */
  readonly transcriptWaitMs: number;
  /** Seconds from a chunk's arrival until the detector has processed it (the ingest-lag metric). */
  readonly observeLag?: (seconds: number) => void;
}

/** Quiet time after the last text of an utterance before the turn is committed with it. */
const TRANSCRIPT_SETTLE_MS = 150;

export class VoiceInput {
  private chain: Promise<void> = Promise.resolve();
  private readonly resamplers = new Map<number, Promise<Pcm16Resampler>>();
  private vadStream: VadStream | undefined;
  private recognition: RecognitionStream | undefined;
  /** Streams open at the first audio, and the port with them: a text-only session costs nothing here. */
  private sink: SpeechSink | undefined;
  private speechStartMs: number | undefined;
  /** A turn waiting for its transcript: the text gathered so far, and how the turn goes with it. */
  private pending: { texts: string[]; timer: NodeJS.Timeout; commit: (transcript: string | undefined) => void } | undefined;
  private closed = false;

  constructor(
    private readonly session: SpeechSession,
    private readonly deps: VoiceDeps,
  ) {}

  private open(): SpeechSink {
    const config = this.session.config;
    const { vad, recognizer } = this.deps;
    if (vad && config.automaticActivityDetection) this.vadStream = vad.open(config.vad);
    // A recognizer process costs ~110 MB: only for sessions that asked for input transcription,
    // or whose engine reads text only.
    // A transcription model (gemini-3.5-transcribe-live) transcribes whether or not it was asked to.
    if (recognizer && !this.deps.engineTranscribes && (config.inputTranscription || config.profile.transcribeOnly || this.deps.transcribeForEngine)) {
      this.recognition = recognizer.open();
      this.recognition?.onText((text) => this.onText(text));
    }
    return this.session.openSpeech({ detectsSpeech: this.vadStream !== undefined, transcribes: this.recognition !== undefined });
  }

  /**
   * A realtimeInput the session has just applied, and when its frame arrived: its audio goes to
   * the detector and the recognizer; audioStreamEnd and activityEnd end the speech in progress.
   */
  hear(ri: RealtimeInput, arrived = performance.now()): void {
    for (const blob of realtimeBlobs(ri)) if (blob.kind === 'audio' && blob.data) this.push(blob.data, blob.mimeType, arrived);
    if (ri.audioStreamEnd) this.flush();
    if (ri.activityEnd) this.endActivity();
  }

  /** An audio blob (PCM16 at the rate its MIME type names; 16 kHz when it names none). */
  private push(data: string, mimeType: string, arrived: number): void {
    if (this.closed) return;
    this.sink ??= this.open();
    if (!this.vadStream && !this.recognition) {
      // Nothing to hear with: the chunk is done once the session has counted it.
      this.deps.observeLag?.((performance.now() - arrived) / 1000);
      return;
    }
    const rate = pcmRate(mimeType);
    const bytes = Buffer.from(data, 'base64');
    const samples = new Int16Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.length / 2));
    this.chain = this.chain.then(() => this.process(samples, rate, arrived)).catch((err: unknown) => {
      this.deps.log.warn({ session: this.session.id, err: errorMessage(err) }, 'voice input failed; activity detection stops for this session');
      this.close();
    });
  }

  /** audioStreamEnd: speech in progress ends here, and the recognizer gets silence to finish its utterance. */
  private flush(): void {
    this.chain = this.chain.then(() => {
      if (this.closed) return;
      if (this.speechStartMs !== undefined && this.vadStream) this.speechEnded(this.vadStream.positionMs);
      this.finishUtterance();
    });
  }

  /**
   * activityEnd (manual mode): the client says the utterance is over, and may send no more audio
   * for a while, so the recognizer is told now instead of waiting for silence that never comes.
   */
  private endActivity(): void {
    this.chain = this.chain.then(() => {
      if (this.closed || !this.recognition) return;
      this.commitPending();
      this.finishUtterance();
      this.awaitTranscript((transcript) => this.sink?.speechEnded(undefined, transcript));
    });
  }

  private finishUtterance(): void {
    const recognition = this.recognition;
    if (!recognition) return;
    // A recognizer that finds utterance ends in the audio (pocketsphinx) needs silence to find this one.
    if (recognition.endOfSpeech) recognition.endOfSpeech();
    else recognition.write(new Int16Array(INPUT_SAMPLE_RATE));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.pending) clearTimeout(this.pending.timer);
    this.pending = undefined;
    this.vadStream?.close();
    this.recognition?.close();
    for (const r of this.resamplers.values()) void r.then((x) => x.destroy()).catch(() => undefined);
  }

  private async process(input: Int16Array, rate: number, arrived: number): Promise<void> {
    if (this.closed) return;
    const pcm = rate === INPUT_SAMPLE_RATE ? input : (await this.resampler(rate)).process(input);
    if (this.closed) return;
    this.recognition?.write(pcm);
    if (!this.vadStream) return;
    const events = await this.vadStream.push(pcm);
    this.deps.observeLag?.((performance.now() - arrived) / 1000);
    if (this.closed) return;
    for (const e of events) {
      if (e.type === 'speechStart') {
        // New speech while the last turn still waits for its text: that turn goes now.
        this.commitPending();
        this.speechStartMs = e.atMs;
        this.sink?.speechStarted();
      } else {
        this.speechEnded(e.atMs);
      }
    }
  }

  private speechEnded(atMs: number): void {
    const seconds = Math.max(0, atMs - (this.speechStartMs ?? atMs)) / 1000;
    this.speechStartMs = undefined;
    if (!this.recognition) {
      this.sink?.speechEnded(seconds);
      return;
    }
    this.commitPending();
    this.recognition?.endOfSpeech?.();
    this.awaitTranscript((transcript) => this.sink?.speechEnded(seconds, transcript));
  }

  private awaitTranscript(commit: (transcript: string | undefined) => void): void {
    const timer = setTimeout(() => this.commitPending(), this.deps.transcriptWaitMs);
    this.pending = { texts: [], timer, commit };
  }

  private onText(text: string): void {
    if (this.closed) return;
    this.sink?.heard(text);
    const pending = this.pending;
    if (!pending) return;
    pending.texts.push(text);
    // More of the same utterance may follow at once; a short quiet spell ends the wait.
    clearTimeout(pending.timer);
    pending.timer = setTimeout(() => this.commitPending(), TRANSCRIPT_SETTLE_MS);
  }

  private commitPending(): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    clearTimeout(pending.timer);
    const transcript = pending.texts.join(' ').trim();
    pending.commit(transcript || undefined);
  }

  private resampler(rate: number): Promise<Pcm16Resampler> {
    let r = this.resamplers.get(rate);
    if (!r) {
      r = createPcm16Resampler(rate, INPUT_SAMPLE_RATE);
      this.resamplers.set(rate, r);
    }
    return r;
  }
}
