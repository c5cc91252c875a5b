/**
 * Live models relive knows, with the facts the session core needs. The context windows are
 * PROTOCOL.md §5.1's: 128k tokens for native-audio models, 32k for the other Live models.
 */
export interface ModelProfile {
  readonly name: string;
  readonly contextWindowTokens: number;
}

const NATIVE_AUDIO_WINDOW = 128_000;
const LIVE_WINDOW = 32_000;

export const KNOWN_LIVE_MODELS: readonly string[] = [
  'models/gemini-live-2.5-flash-preview',
  'models/gemini-live-2.5-flash',
  'models/gemini-2.0-flash-live-001',
  'models/gemini-2.0-flash-exp',
  'models/gemini-2.5-flash-native-audio-preview-09-2025',
  'models/gemini-2.5-flash-native-audio-preview-12-2025',
  'models/gemini-2.5-flash-native-audio-latest',
  'models/gemini-2.5-flash-preview-native-audio-dialog',
  'models/gemini-2.5-flash-exp-native-audio-thinking-dialog',
  'models/gemini-3.1-flash-live-preview',
];

export function profileFor(model: string): ModelProfile {
  const native = /native-audio|3\.\d-flash-live/.test(model);
  return { name: model, contextWindowTokens: native ? NATIVE_AUDIO_WINDOW : LIVE_WINDOW };
}

/** Policy for names outside the catalogue: an emulator must not break on next month's model. */
export type UnknownModelPolicy = 'accept' | 'reject';

export function isKnownModel(model: string, extra: readonly string[] = []): boolean {
  return KNOWN_LIVE_MODELS.includes(model) || extra.includes(model);
}
