/**
 * `relive-gemini/media`: the voice pipeline's parts, to pass as `createServer({ speech,
 * speechRecognizer, vad })` or to replace with your own implementations of the same interfaces.
 */
export { createPocketsphinxRecognizer, type PocketsphinxRecognizerOptions } from './stt/pocketsphinx.js';
export { createOpenAITranscriptionRecognizer, type OpenAITranscriptionOptions } from './stt/openai-transcription.js';
export { createFliteSynthesizer, type FliteSynthesizerOptions } from './tts/flite-synthesizer.js';
export { createOpenAISpeechSynthesizer, OpenAISpeechError, type OpenAISpeechOptions } from './tts/openai-speech.js';
export { createSileroVad, type SileroVadOptions } from './vad/silero-vad.js';
export { INPUT_SAMPLE_RATE, type SpeechRecognizer, type RecognitionStream, type VoiceActivityDetector, type VadStream, type VadEvent, type VadSettings } from '../session/voice.js';
export { OUTPUT_SAMPLE_RATE, type SpeechSynthesizer } from '../session/speech.js';
