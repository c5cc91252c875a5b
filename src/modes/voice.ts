/**
 * The voice parts a mode starts with unless told otherwise — flite speaks, pocketsphinx
 * transcribes, Silero detects speech — and the start-up line that says which of them this server
 * has. What is created here is owned by the server (closed at close); what the options pass in
 * stays the caller's.
 */
import type { Logger } from 'pino';
import { createFliteSynthesizer, fliteUnavailable } from '../media/tts/flite-synthesizer.js';
import { createPocketsphinxRecognizer, pocketsphinxUnavailable } from '../media/stt/pocketsphinx.js';
import { createSileroVad, sileroFailure } from '../media/vad/silero-vad.js';
import type { ServerOptions } from '../server/options.js';
import type { LoadedVoice, OwnedPart, ServerParts } from '../server/parts.js';
import type { VoiceFeature } from '../server/voice-report.js';
import type { Engine } from '../session/engine.js';
import type { SpeechSynthesizer } from '../session/speech.js';
import type { SpeechRecognizer } from '../session/voice.js';

/** One voice part as a mode chose it: the adapter, and what the voice line says of it. */
export interface VoicePart<T> {
  readonly value: T;
  /** Set when the mode created it: the server closes it. */
  readonly owned?: OwnedPart;
  /** Asked at listen(): whether a system package is there is checked then, not at construction. */
  report(): VoiceFeature;
}

export type SpeechPart = VoicePart<() => SpeechSynthesizer | undefined>;
export type RecognizerPart = VoicePart<SpeechRecognizer | undefined>;

/** `speech` as given, else flite, started at the first AUDIO reply. */
export function defaultSpeech(given: SpeechSynthesizer | undefined): SpeechPart {
  if (given) return { value: () => given, report: () => ({ on: true, detail: 'the speech option' }) };
  let flite: SpeechSynthesizer | undefined;
  return {
    value: () => (flite ??= createFliteSynthesizer()),
    // Only if it was started: a text-only server never had one.
    owned: { name: 'flite synthesizer', close: () => flite?.close() },
    report: () => {
      const missing = fliteUnavailable();
      return missing ? { on: false, detail: missing } : { on: true, detail: 'flite' };
    },
  };
}

/** `speechRecognizer` as given (false: none), else pocketsphinx. */
export function defaultRecognizer(given: SpeechRecognizer | false | undefined, log: Logger): RecognizerPart {
  if (given === false) return { value: undefined, report: () => ({ on: false, chosen: true, detail: 'speechRecognizer: false' }) };
  if (given) return { value: given, report: () => ({ on: true, detail: given.name }) };
  const pocketsphinx = createPocketsphinxRecognizer({ log });
  return {
    value: pocketsphinx,
    owned: { name: 'pocketsphinx recognizer', close: () => pocketsphinx.close() },
    report: () => {
      const missing = pocketsphinxUnavailable();
      return missing ? { on: false, detail: missing, fix: 'apt-get install pocketsphinx pocketsphinx-en-us' } : { on: true, detail: 'pocketsphinx' };
    },
  };
}

/**
 * The voice fields of ServerParts from the chosen speech and recognizer, with `vad` as given
 * (false: none) or else Silero, loaded at listen(). Silero holds no resource to close.
 */
export function voiceParts(
  speech: SpeechPart,
  recognizer: RecognizerPart,
  vad: ServerOptions['vad'],
  engine: Engine,
): Pick<ServerParts, 'speech' | 'recognizer' | 'loadVoice' | 'owned'> {
  async function loadVoice(): Promise<LoadedVoice> {
    let activityDetection: VoiceFeature;
    let detector = vad || undefined;
    if (vad === false) activityDetection = { on: false, chosen: true, detail: 'vad: false' };
    else if (vad) activityDetection = { on: true, detail: vad.name };
    else {
      let failure: string | undefined;
      detector = await createSileroVad().catch((err: unknown) => {
        failure = sileroFailure(err);
        return undefined;
      });
      activityDetection = detector ? { on: true, detail: 'Silero v5 on onnxruntime-node' } : { on: false, detail: failure ?? 'not loaded' };
    }
    // An engine that hears the audio transcribes it itself: no recognizer runs for its sessions.
    const transcription: VoiceFeature = engine.hearsInput ? { on: true, detail: `by the ${engine.name} engine, which hears the audio` } : recognizer.report();
    return { vad: detector, report: { activityDetection, transcription, speechSynthesis: speech.report() } };
  }
  return {
    speech: speech.value,
    recognizer: recognizer.value,
    loadVoice,
    owned: [speech.owned, recognizer.owned].filter((part) => part !== undefined),
  };
}
