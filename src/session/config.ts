/**
 * A client's `setup` resolved into the settings the session runs with, after the semantic checks
 * the real service makes (PROTOCOL.md §3.1, §7.2).
 */
import type { Content, Setup, Tool } from '../protocol/client-schema.js';
import { CloseReasons, unknownModelClose, type CloseSpec } from '../protocol/close-codes.js';
import type { VadSettings } from './voice.js';
import type { ModelCatalog, ModelProfile, UnknownModelPolicy } from './models.js';
import { modelCatalog } from './model-table.js';
import { setupRefusal } from './setup-rules.js';

const builtinCatalog = modelCatalog();

export type ResponseModality = 'TEXT' | 'AUDIO';

export interface SessionConfig {
  readonly model: string;
  /** What the model does differently (models.ts); the default profile for a model no profile names. */
  readonly profile: ModelProfile;
  /** False when no profile names the model and the default profile stands in. */
  readonly knownModel: boolean;
  readonly modality: ResponseModality;
  readonly voice: string | undefined;
  readonly systemInstruction: Content | undefined;
  readonly tools: readonly Tool[];
  /** True unless `automaticActivityDetection.disabled`: the server detects turn ends. */
  readonly automaticActivityDetection: boolean;
  /** False with `NO_INTERRUPTION`: user activity does not cut the model off. */
  readonly activityInterrupts: boolean;
  /** Whether a spoken turn holds only the speech (default) or all audio since the last turn. */
  readonly turnCoverage: 'ONLY_ACTIVITY' | 'ALL_INPUT';
  /** The automatic detector's settings (PROTOCOL.md §4: UNSPECIFIED sensitivities are HIGH on the Gemini API). */
  readonly vad: VadSettings;
  readonly inputTranscription: boolean;
  readonly outputTranscription: boolean;
  /** What the transcription configs ask for beyond the text (AudioTranscriptionConfig). */
  readonly transcriptionDetail: TranscriptionDetail;
  /** Present when the client asked for resumption updates. */
  readonly resumption: { readonly transparent: boolean } | undefined;
  readonly compression: { readonly triggerTokens?: number; readonly targetTokens?: number } | undefined;
  /** The setup as received (normalized), for inspection and for forwarding upstream. */
  readonly setup: Setup;
}

export interface TranscriptionDetail {
  /** The first of `inputAudioTranscription.languageCodes`: said on every input transcript. */
  readonly inputLanguage?: string;
  /** The first of `outputAudioTranscription.languageCodes`: said on every output transcript. */
  readonly outputLanguage?: string;
  /** `outputAudioTranscription.wordTimestamp`: each output transcript has its offsets and words[]. */
  readonly outputWords: boolean;
}

/** The first language code of an AudioTranscriptionConfig, if it names any. */
function firstLanguage(config: Record<string, unknown> | undefined): string | undefined {
  const codes = config?.languageCodes;
  return Array.isArray(codes) && typeof codes[0] === 'string' && codes[0].length > 0 ? codes[0] : undefined;
}

export interface ConfigOptions {
  readonly unknownModels: UnknownModelPolicy;
  readonly extraModels?: readonly string[];
  /** Default: the built-in profiles only. */
  readonly models?: ModelCatalog;
  readonly apiVersion: string;
  /** Strict mode: the profile's unknown-field rules close too (setup-rules.ts). */
  readonly strict?: boolean;
}

export type ConfigResult = { ok: true; config: SessionConfig } | { ok: false; close: CloseSpec; detail: string };

/** A server's settings that decide whether a setup is taken. */
export interface SetupPolicy {
  readonly models: ModelCatalog;
  readonly unknownModels: UnknownModelPolicy;
  readonly extraModels: readonly string[];
  readonly strict: boolean;
}

/**
 * A setup checked as the server checks it at connect, for the connection's API version: strict
 * mode refuses unknown models whatever the policy. The setup step and lint-setup both come here,
 * so the linter cannot drift from what the server does.
 */
export function checkSetup(setup: Setup, policy: SetupPolicy, apiVersion: string): ConfigResult {
  return resolveConfig(setup, {
    unknownModels: policy.strict ? 'reject' : policy.unknownModels,
    extraModels: policy.extraModels,
    models: policy.models,
    apiVersion,
    strict: policy.strict,
  });
}

export function resolveConfig(setup: Setup, options: ConfigOptions): ConfigResult {
  const model = setup.model.startsWith('models/') || setup.model.startsWith('tunedModels/') ? setup.model : `models/${setup.model}`;
  const match = (options.models ?? builtinCatalog).lookup(model);
  if (options.unknownModels === 'reject' && !match.known && !(options.extraModels ?? []).includes(model)) {
    return { ok: false, close: unknownModelClose(model, options.apiVersion), detail: `unknown model ${model}` };
  }
  const gen = setup.generationConfig;
  const modalities = (gen?.responseModalities ?? []).filter((m) => m !== 'MODALITY_UNSPECIFIED');
  const unique = [...new Set(modalities)];
  if (unique.length > 1) {
    return { ok: false, close: CloseReasons.invalidArgument, detail: `more than one response modality: ${unique.join(', ')}` };
  }
  const requested = unique[0] ?? 'AUDIO';
  if (requested !== 'TEXT' && requested !== 'AUDIO') {
    return { ok: false, close: CloseReasons.invalidArgument, detail: `unsupported response modality ${requested}` };
  }
  if (requested === 'TEXT' && gen?.speechConfig) {
    return { ok: false, close: CloseReasons.voicesFromNonAudio, detail: 'speechConfig with TEXT modality' };
  }
  const refusal = setupRefusal(setup, requested, match.profile, { apiVersion: options.apiVersion, strict: options.strict === true });
  if (refusal) return { ok: false, close: refusal.close, detail: refusal.detail };
  const aad = setup.realtimeInputConfig?.automaticActivityDetection;
  const compression = setup.contextWindowCompression;
  return {
    ok: true,
    config: {
      model,
      profile: match.profile,
      knownModel: match.known,
      modality: requested,
      voice: gen?.speechConfig?.voiceConfig?.prebuiltVoiceConfig?.voiceName,
      systemInstruction: setup.systemInstruction,
      tools: setup.tools ?? [],
      automaticActivityDetection: aad?.disabled !== true,
      activityInterrupts: setup.realtimeInputConfig?.activityHandling !== 'NO_INTERRUPTION',
      turnCoverage: setup.realtimeInputConfig?.turnCoverage === 'TURN_INCLUDES_ALL_INPUT' ? 'ALL_INPUT' : 'ONLY_ACTIVITY',
      vad: {
        startSensitivity: aad?.startOfSpeechSensitivity === 'START_SENSITIVITY_LOW' ? 'LOW' : 'HIGH',
        endSensitivity: aad?.endOfSpeechSensitivity === 'END_SENSITIVITY_LOW' ? 'LOW' : 'HIGH',
        ...(aad?.prefixPaddingMs !== undefined ? { prefixPaddingMs: aad.prefixPaddingMs } : {}),
        ...(aad?.silenceDurationMs !== undefined ? { silenceDurationMs: aad.silenceDurationMs } : {}),
      },
      inputTranscription: setup.inputAudioTranscription !== undefined,
      outputTranscription: setup.outputAudioTranscription !== undefined,
      transcriptionDetail: {
        inputLanguage: firstLanguage(setup.inputAudioTranscription),
        outputLanguage: firstLanguage(setup.outputAudioTranscription),
        outputWords: setup.outputAudioTranscription?.wordTimestamp === true,
      },
      resumption: setup.sessionResumption ? { transparent: setup.sessionResumption.transparent === true } : undefined,
      compression: compression
        ? { triggerTokens: compression.triggerTokens, targetTokens: compression.slidingWindow?.targetTokens }
        : undefined,
      setup: { ...setup, model },
    },
  };
}
