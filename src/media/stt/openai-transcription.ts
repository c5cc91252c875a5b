/**
 * Input transcription through an OpenAI-compatible `POST /audio/transcriptions` endpoint (OpenAI's
 * whisper-1 or gpt-4o-transcribe, a local whisper server, …), the alternative to pocketsphinx.
 *
 * Such endpoints transcribe whole files, not streams: each stream buffers the 16 kHz PCM written
 * to it since the previous end of speech (at most the last 60 s) and, when the voice detector says
 * the utterance ended (`endOfSpeech()`), sends it as a WAV file. Requests may overlap; their texts
 * are emitted in utterance order. Failures are logged (once per stream) and never thrown: the turn
 * then simply goes without its transcript.
 */
import { INPUT_SAMPLE_RATE, type RecognitionStream, type SpeechRecognizer } from '../../session/voice.js';
import { errorMessage } from '../../errors.js';

export interface OpenAITranscriptionOptions {
  /** Up to and including the version, e.g. `https://api.openai.com/v1`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer`; none for a local server that wants none. */
  apiKey?: string;
  /** e.g. `whisper-1`, `gpt-4o-transcribe`. */
  model: string;
  /** ISO-639-1 hint (`en`, `de`, …); default: the endpoint detects the language. */
  language?: string;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
  /** Where warnings go (pino's logger fits); default nowhere. */
  log?: { warn(obj: object, msg: string): void };
}

/** Audio kept per stream while waiting for the end of speech; older audio is dropped. */
export const MAX_UTTERANCE_SECONDS = 60;
const MAX_SAMPLES = MAX_UTTERANCE_SECONDS * INPUT_SAMPLE_RATE;
const WAV_HEADER_BYTES = 44;

const noLog = { warn(): void {} };

/** A complete WAV file (RIFF, PCM format 1, mono, 16-bit little-endian) around `pcm`. */
export function wavFile(pcm: Int16Array, sampleRate: number = INPUT_SAMPLE_RATE): Buffer {
  const dataBytes = pcm.length * 2;
  const out = Buffer.alloc(WAV_HEADER_BYTES + dataBytes);
  out.write('RIFF', 0, 'ascii');
  out.writeUInt32LE(36 + dataBytes, 4);
  out.write('WAVE', 8, 'ascii');
  out.write('fmt ', 12, 'ascii');
  out.writeUInt32LE(16, 16); // fmt chunk size
  out.writeUInt16LE(1, 20); // PCM
  out.writeUInt16LE(1, 22); // mono
  out.writeUInt32LE(sampleRate, 24);
  out.writeUInt32LE(sampleRate * 2, 28); // byte rate
  out.writeUInt16LE(2, 32); // block align
  out.writeUInt16LE(16, 34); // bits per sample
  out.write('data', 36, 'ascii');
  out.writeUInt32LE(dataBytes, 40);
  for (let i = 0; i < pcm.length; i++) out.writeInt16LE(pcm[i]!, WAV_HEADER_BYTES + i * 2);
  return out;
}

export function createOpenAITranscriptionRecognizer(options: OpenAITranscriptionOptions): SpeechRecognizer {
  const streams = new Set<TranscriptionStream>();
  let closed = false;
  return {
    name: 'openai-transcription',
    open() {
      if (closed) return undefined;
      const stream = new TranscriptionStream(options, () => streams.delete(stream));
      streams.add(stream);
      return stream;
    },
    async close() {
      closed = true;
      for (const s of [...streams]) s.close();
    },
  };
}

class TranscriptionStream implements RecognitionStream {
  private chunks: Int16Array[] = [];
  private samples = 0;
  private readonly listeners: ((text: string) => void)[] = [];
  private readonly controller = new AbortController();
  /** Texts go out in utterance order, whichever request answers first. */
  private order: Promise<void> = Promise.resolve();
  private droppedLogged = false;
  private errorLogged = false;
  private closed = false;
  private readonly log: { warn(obj: object, msg: string): void };
  private readonly fetch: typeof fetch;

  constructor(
    private readonly options: OpenAITranscriptionOptions,
    private readonly onClose: () => void,
  ) {
    this.log = options.log ?? noLog;
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  write(pcm16k: Int16Array): void {
    if (this.closed || pcm16k.length === 0) return;
    // A copy: the caller may reuse its buffer.
    this.chunks.push(pcm16k.slice(-MAX_SAMPLES));
    this.samples += Math.min(pcm16k.length, MAX_SAMPLES);
    if (this.samples <= MAX_SAMPLES) return;
    let excess = this.samples - MAX_SAMPLES;
    while (excess > 0) {
      const first = this.chunks[0]!;
      if (first.length <= excess) {
        this.chunks.shift();
        excess -= first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        excess = 0;
      }
    }
    this.samples = MAX_SAMPLES;
    if (!this.droppedLogged) {
      this.droppedLogged = true;
      this.log.warn({ model: this.options.model }, `no end of speech for ${MAX_UTTERANCE_SECONDS} s: only the last ${MAX_UTTERANCE_SECONDS} s of audio will be transcribed`);
    }
  }

  onText(listener: (text: string) => void): void {
    this.listeners.push(listener);
  }

  endOfSpeech(): void {
    if (this.closed || this.samples === 0) return;
    const pcm = new Int16Array(this.samples);
    let at = 0;
    for (const c of this.chunks) {
      pcm.set(c, at);
      at += c.length;
    }
    this.chunks = [];
    this.samples = 0;
    const text = this.transcribe(pcm);
    this.order = this.order.then(async () => {
      const t = await text;
      if (this.closed || !t) return;
      for (const l of this.listeners) l(t);
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.chunks = [];
    this.samples = 0;
    this.controller.abort();
    this.onClose();
  }

  /** The utterance's text, or undefined when the endpoint failed (logged) or heard nothing. */
  private async transcribe(pcm: Int16Array): Promise<string | undefined> {
    const { baseUrl, apiKey, model, language } = this.options;
    const form = new FormData();
    form.append('file', new Blob([wavFile(pcm)], { type: 'audio/wav' }), 'utterance.wav');
    form.append('model', model);
    if (language) form.append('language', language);
    form.append('response_format', 'json');
    try {
      const res = await this.fetch(`${baseUrl.replace(/\/+$/, '')}/audio/transcriptions`, {
        method: 'POST',
        body: form,
        headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
        signal: this.controller.signal,
      });
      const body = await res.text();
      if (!res.ok) throw new Error(`HTTP ${res.status}: ${apiErrorMessage(body)}`);
      const parsed = JSON.parse(body) as { text?: unknown };
      if (typeof parsed.text !== 'string') throw new Error('the response has no text');
      return parsed.text.trim() || undefined;
    } catch (err) {
      if (!this.closed && !this.errorLogged) {
        this.errorLogged = true;
        this.log.warn(
          { model, err: errorMessage(err) },
          'transcription endpoint failed; utterances go without their transcript (logged once per session)',
        );
      }
      return undefined;
    }
  }
}

/** OpenAI's `{"error": {"message"}}`, else the body itself (shortened). */
export function apiErrorMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } | string };
    if (typeof parsed.error === 'string') return parsed.error;
    if (parsed.error && typeof parsed.error.message === 'string') return parsed.error.message;
  } catch {}
  return body.slice(0, 200) || '(empty body)';
}
