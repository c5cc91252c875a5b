/**
 * Turns a streamed text reply into Live API audio: sentence by sentence through the synthesizer
 * (synthesis of the next sentence overlaps sending of the current one), sent as
 * `audio/pcm;rate=24000` chunks with an `outputTranscription` per sentence when enabled. It
 * records how much was actually sent, because after a barge-in only that stays in history.
 */
import { formatDuration } from '../protocol/duration.js';
import { msg, type ServerMessage, type Transcription } from '../protocol/server-messages.js';
import { isAbortError } from './clock.js';
import { SentenceSplitter } from './sentences.js';
import { OUTPUT_SAMPLE_RATE, type SpeechSynthesizer } from './speech.js';

export interface SpeakerOutput {
  send(message: ServerMessage): void;
  ready(): Promise<void>;
}

export interface SpeakerOptions {
  readonly voice: string | undefined;
  /** Milliseconds of audio per `inlineData` chunk. */
  readonly chunkMs: number;
  readonly transcription: boolean;
  /** The model sends several fields in one event (3.1): a sentence's first chunk carries its transcript. */
  readonly bundled?: boolean;
  /** Said on every transcript (`outputAudioTranscription.languageCodes[0]`). */
  readonly languageCode?: string;
  /** `wordTimestamp`: each sentence's transcript carries its offsets in the turn's audio and its words'. */
  readonly wordTimes?: boolean;
}

const BYTES_PER_SECOND = OUTPUT_SAMPLE_RATE * 2;

export class Speaker {
  private readonly splitter = new SentenceSplitter();
  private chain: Promise<void> = Promise.resolve();
  private error: unknown;
  private sentSeconds = 0;
  private sentencesStarted = 0;
  private readonly sentWords: string[] = [];

  constructor(
    private readonly tts: SpeechSynthesizer,
    private readonly out: SpeakerOutput,
    private readonly options: SpeakerOptions,
    private readonly signal: AbortSignal,
  ) {}

  push(text: string): void {
    for (const sentence of this.splitter.push(text)) this.enqueue(sentence);
  }

  /** Speaks what is left and resolves once every queued sentence has been sent. */
  async flush(): Promise<void> {
    const rest = this.splitter.flush();
    if (rest) this.enqueue(rest);
    await this.chain;
    if (this.error !== undefined && !isAbortError(this.error)) throw this.error;
  }

  /** What the client has received so far: seconds of audio and the words they carry. */
  spoken(): { seconds: number; transcript: string } | undefined {
    if (this.sentSeconds === 0) return undefined;
    return { seconds: this.sentSeconds, transcript: this.sentWords.join(' ') };
  }

  private enqueue(sentence: string): void {
    const audio = this.tts.synthesize(sentence, { voice: this.options.voice, signal: this.signal });
    // Awaited in order below; the catch only keeps an aborted synthesis from going unhandled.
    audio.catch(() => undefined);
    this.chain = this.chain
      .then(() => (this.error === undefined ? this.play(sentence, audio) : undefined))
      .catch((err: unknown) => {
        this.error ??= err;
      });
  }

  private async play(sentence: string, audio: Promise<Buffer>): Promise<void> {
    const pcm = await audio;
    const chunkBytes = Math.max(2, Math.round((BYTES_PER_SECOND * this.options.chunkMs) / 1000 / 2) * 2);
    const words = sentence.split(/\s+/).filter(Boolean);
    let wordsSent = 0;
    for (let offset = 0; offset < pcm.length; offset += chunkBytes) {
      await this.out.ready();
      if (this.signal.aborted) return;
      const chunk = pcm.subarray(offset, Math.min(pcm.length, offset + chunkBytes));
      // Transcription chunks concatenate on the client, so sentences after the first carry their space.
      const transcript = offset === 0 && this.options.transcription ? (this.sentencesStarted > 0 ? ` ${sentence}` : sentence) : undefined;
      const data = chunk.toString('base64');
      const together = transcript !== undefined && this.options.bundled === true;
      const detail = transcript !== undefined ? this.detail(words, this.sentSeconds, pcm.length / BYTES_PER_SECOND) : {};
      this.out.send(together ? msg.audioWithTranscript(data, transcript, detail) : msg.audio(data));
      // A send may end the generation (a cut turn): that chunk never went out.
      if (this.signal.aborted) return;
      this.sentSeconds += chunk.length / BYTES_PER_SECOND;
      if (offset === 0) {
        if (transcript !== undefined && !together) this.out.send(msg.outputTranscription(transcript, detail));
        this.sentencesStarted++;
      }
      // Words are credited in proportion to the audio sent, so an interrupted sentence keeps its spoken part.
      const due = Math.round((words.length * Math.min(pcm.length, offset + chunkBytes)) / pcm.length);
      while (wordsSent < due) this.sentWords.push(words[wordsSent++]!);
    }
  }

  /**
   * What the client's transcription config asked for on a sentence's transcript: its language, and
   * with word timing the sentence's offsets in the turn's audio and each word's. Word times are
   * shared out by the words' lengths: the synthesizer gives the sentence's audio, not word marks.
   */
  private detail(words: readonly string[], startSeconds: number, seconds: number): Omit<Transcription, 'text'> {
    const language = this.options.languageCode ? { languageCode: this.options.languageCode } : {};
    if (!this.options.wordTimes) return language;
    const ms = (s: number) => formatDuration(Math.round(s * 1000));
    const letters = words.reduce((n, w) => n + w.length, 0) || 1;
    let at = startSeconds;
    const timed = words.map((word) => {
      const start = at;
      at += (seconds * word.length) / letters;
      return { word, startOffset: ms(start), endOffset: ms(at) };
    });
    return { ...language, startOffset: ms(startSeconds), endOffset: ms(startSeconds + seconds), words: timed };
  }
}
