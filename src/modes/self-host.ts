/**
 * The self-host mode: any OpenAI-compatible chat completions server (Ollama, vLLM, llama.cpp,
 * OpenAI) behind the Live API, heard through a speech recognizer and spoken through a
 * synthesizer: the local ones, or that server's own /audio endpoints when their models are named.
 */
import { createOpenAITranscriptionRecognizer } from '../media/stt/openai-transcription.js';
import { createOpenAISpeechSynthesizer } from '../media/tts/openai-speech.js';
import { OpenAIEngine, type OpenAIEngineOptions } from '../engine/openai/openai-engine.js';
import { ReliveError } from '../errors.js';
import { assembleServer, type ReliveServer } from '../server/create-server.js';
import type { ServerOptions } from '../server/options.js';
import type { ServerParts } from '../server/parts.js';
import { baseParts } from './base.js';
import { defaultRecognizer, defaultSpeech, voiceParts, type RecognizerPart, type SpeechPart } from './voice.js';

export interface SelfHostOptions extends Omit<ServerOptions, 'engine' | 'scenario'> {
  readonly openai: Omit<OpenAIEngineOptions, 'log'> & {
    /** Transcribe with the server's /audio/transcriptions and this model (e.g. whisper-1) instead of pocketsphinx. */
    readonly sttModel?: string;
    /** Speak with the server's /audio/speech and this model (e.g. tts-1) instead of flite. */
    readonly ttsModel?: string;
    /** Its voice (default alloy). */
    readonly ttsVoice?: string;
  };
}

/**
 * Self-host owns what it creates: the OpenAIEngine (closed with the server, as every engine is),
 * the OpenAI transcription recognizer and speech synthesizer when `sttModel` and `ttsModel` name
 * them, and otherwise, as the emulator does, the pocketsphinx recognizer and flite synthesizer
 * made when `speechRecognizer` and `speech` are not given. What the caller passes stays the
 * caller's. `sttModel` with `speechRecognizer`, or `ttsModel` with `speech`, is refused: which
 * one would answer is not obvious.
 */
export function selfHostParts(options: SelfHostOptions): ServerParts {
  const { sttModel, ttsModel, ttsVoice, ...chat } = options.openai;
  if (sttModel !== undefined && options.speechRecognizer !== undefined) {
    throw new ReliveError('RELIVE_ERR_INVALID_OPTION', 'self-host: give openai.sttModel or speechRecognizer, not both');
  }
  if (ttsModel !== undefined && options.speech !== undefined) throw new ReliveError('RELIVE_ERR_INVALID_OPTION', 'self-host: give openai.ttsModel or speech, not both');
  const base = baseParts(options);
  const engine = new OpenAIEngine({ ...chat, log: base.log });
  const endpoint = { baseUrl: chat.baseUrl, apiKey: chat.apiKey };
  const recognizer: RecognizerPart = sttModel ? owned(createOpenAITranscriptionRecognizer({ ...endpoint, model: sttModel, log: base.log }), 'OpenAI transcription recognizer') : defaultRecognizer(options.speechRecognizer, base.log);
  const speech: SpeechPart = ttsModel ? ownedSpeech(createOpenAISpeechSynthesizer({ ...endpoint, model: ttsModel, voice: ttsVoice }), ttsModel) : defaultSpeech(options.speech);
  return { ...base, engine, ...voiceParts(speech, recognizer, options.vad, engine) };
}

/** A self-host server, not yet listening. */
export function createSelfHost(options: SelfHostOptions): ReliveServer {
  return assembleServer(selfHostParts(options));
}

function owned(recognizer: NonNullable<RecognizerPart['value']>, name: string): RecognizerPart {
  return { value: recognizer, owned: { name, close: () => recognizer.close() }, report: () => ({ on: true, detail: recognizer.name }) };
}

function ownedSpeech(synthesizer: ReturnType<typeof createOpenAISpeechSynthesizer>, model: string): SpeechPart {
  return {
    value: () => synthesizer,
    owned: { name: 'OpenAI speech synthesizer', close: () => synthesizer.close() },
    report: () => ({ on: true, detail: `the server's /audio/speech (${model})` }),
  };
}
