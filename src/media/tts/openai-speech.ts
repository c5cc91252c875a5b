/**
 * Speech through an OpenAI-compatible `POST /audio/speech` endpoint (tts-1, gpt-4o-mini-tts, a
 * local server with the same API), the alternative to flite. It asks for `response_format: "pcm"`:
 * raw 24 kHz mono 16-bit little-endian samples without a header, exactly the Live API's output
 * format, so the bytes go out as they come.
 */
import type { SpeechSynthesizer } from '../../session/speech.js';
import { apiErrorMessage } from '../stt/openai-transcription.js';

export interface OpenAISpeechOptions {
  /** Up to and including the version, e.g. `https://api.openai.com/v1`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer`; none for a local server that wants none. */
  apiKey?: string;
  /** e.g. `tts-1`, `gpt-4o-mini-tts`. */
  model: string;
  /** The endpoint's voice for every session. Default `alloy`. */
  voice?: string;
  /**
   * Session voice names (Gemini's: Puck, Kore, …) mapped to the endpoint's voices. A name not
   * listed here gets `voice`: Gemini's names mean nothing to an OpenAI endpoint.
   */
  voices?: Readonly<Record<string, string>>;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
}

export const DEFAULT_OPENAI_VOICE = 'alloy';

/** A non-2xx answer from the endpoint. */
export class OpenAISpeechError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(`speech endpoint answered ${status}: ${message}`);
    this.name = 'OpenAISpeechError';
  }
}

export function createOpenAISpeechSynthesizer(options: OpenAISpeechOptions): SpeechSynthesizer {
  const doFetch = options.fetch ?? globalThis.fetch;
  const url = `${options.baseUrl.replace(/\/+$/, '')}/audio/speech`;
  const defaultVoice = options.voice ?? DEFAULT_OPENAI_VOICE;
  const closing = new AbortController();
  return {
    async synthesize(text, { voice, signal } = {}) {
      if (closing.signal.aborted) throw new Error('speech synthesizer is closed');
      signal?.throwIfAborted();
      if (text.trim() === '') return Buffer.alloc(0);
      const mapped = voice !== undefined && options.voices && Object.hasOwn(options.voices, voice) ? options.voices[voice]! : defaultVoice;
      const res = await doFetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
        },
        body: JSON.stringify({ model: options.model, input: text, voice: mapped, response_format: 'pcm' }),
        signal: signal ? AbortSignal.any([signal, closing.signal]) : closing.signal,
      });
      if (!res.ok) throw new OpenAISpeechError(res.status, apiErrorMessage(await res.text()));
      const pcm = Buffer.from(await res.arrayBuffer());
      // Whole samples only.
      return pcm.length % 2 === 0 ? pcm : pcm.subarray(0, pcm.length - 1);
    },
    async close() {
      closing.abort();
    },
  };
}
