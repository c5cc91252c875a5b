/**
 * The built-in model profiles (docs/models.md is this table in words). Facts are from Google's
 * model pages and migration guides and from field reports; where the Gemini API docs and the
 * Agent Platform (Vertex) docs disagree, the Gemini API reading is taken and the line says so.
 */
import { ModelCatalog, type FieldRule, type ModelProfile, type ModelProfileOverride } from './models.js';

const NOT_V1ALPHA = ['v1', 'v1beta', 'v1beta1'];

/** v1alpha-only fields of the 2.5 native-audio models: other versions do not know them. */
const alphaOnly = (field: string, at: string): FieldRule => ({
  field,
  close: 'unknownField',
  apiVersions: NOT_V1ALPHA,
  why: `${field} exists only on v1alpha (${at})`,
});

const notOnThisModel = (field: string, why: string): FieldRule => ({ field, close: 'unknownField', why });

const LIVE_3_8: ModelProfile = {
  name: 'gemini-3.8-live',
  models: ['gemini-3.8-live', 'gemini-3.8-live-latest', 'gemini-3.8-live-preview*', 'gemini-3.8-flash-live*'],
  summary: 'the default Live model: non-blocking function calls, interactionStatus, AUDIO only, proactive audio always on',
  contextWindowTokens: 131_072,
  responseModalities: ['AUDIO'],
  defaultFunctionBehavior: 'NON_BLOCKING',
  functionBehaviors: ['BLOCKING', 'NON_BLOCKING'],
  bargeInCancels: 'blocking',
  interruptWaitsForSpeech: true,
  interactionStatus: true,
  fillerTurns: false,
  usageMetadata: true,
  bundledParts: false,
  clientContent: 'anytime',
  turnCoverage: 'TURN_INCLUDES_AUDIO_ACTIVITY_AND_ALL_VIDEO',
  thinking: { config: 'refused', refusedLevels: [] },
  refusedFields: [
    { field: 'generationConfig.thinkingConfig', close: 'invalidArgument', why: 'gemini-3.8-live does not support thinkingConfig' },
    { field: 'proactivity.proactiveAudio', equals: false, close: 'invalidArgument', why: 'proactive audio is always on for gemini-3.8-live' },
    // The Gemini API guide removes it (googleapis/js-genai#1953); the Agent Platform guide still lists it. Override to accept it.
    { field: 'generationConfig.enableAffectiveDialog', close: 'unknownField', why: 'affective dialog was removed from gemini-3.8-live' },
  ],
  unknownFields: [],
  transcribeOnly: false,
};

const LIVE_3_8_EXTENDED_THINKING: ModelProfile = {
  ...LIVE_3_8,
  name: 'gemini-3.8-live-extended-thinking',
  models: ['gemini-3.8-live-extended-thinking', 'gemini-3.8-live-extended-thinking-latest', 'gemini-3.8-live-extended-thinking-preview*'],
  summary: 'as gemini-3.8-live, plus filler turns before the answer (several turnCompletes per request), async calls only, thinking required',
  functionBehaviors: ['NON_BLOCKING'],
  fillerTurns: true,
  thinking: { config: 'required', refusedLevels: ['MINIMAL'] },
  refusedFields: LIVE_3_8.refusedFields.filter((r) => r.field !== 'generationConfig.thinkingConfig'),
};

const LIVE_3_1: ModelProfile = {
  name: 'gemini-3.1-flash-live-preview',
  models: ['gemini-3.1-flash-live-preview', 'gemini-3.1-flash-live*'],
  summary: 'previous generation: blocking calls only, audio and transcript in one event, no usageMetadata, history only through historyConfig',
  contextWindowTokens: 128_000,
  responseModalities: ['AUDIO'],
  defaultFunctionBehavior: 'BLOCKING',
  functionBehaviors: ['BLOCKING'],
  bargeInCancels: 'all',
  interruptWaitsForSpeech: false,
  interactionStatus: false,
  fillerTurns: false,
  usageMetadata: false,
  bundledParts: true,
  clientContent: 'initialHistory',
  // PROTOCOL.md §3.1 marks this default as reported, not verified.
  turnCoverage: 'TURN_INCLUDES_AUDIO_ACTIVITY_AND_ALL_VIDEO',
  thinking: { config: 'optional', refusedLevels: [] },
  refusedFields: [],
  unknownFields: [
    notOnThisModel('proactivity', 'gemini-3.1-flash-live-preview has no proactive audio'),
    notOnThisModel('generationConfig.enableAffectiveDialog', 'gemini-3.1-flash-live-preview has no affective dialog'),
  ],
  transcribeOnly: false,
};

const NATIVE_AUDIO_2_5: ModelProfile = {
  name: 'gemini-2.5-flash-native-audio',
  models: [
    'gemini-2.5-flash-native-audio*',
    'gemini-live-2.5-flash-native-audio*',
    'gemini-2.5-flash-preview-native-audio-dialog',
    'gemini-2.5-flash-exp-native-audio-thinking-dialog',
  ],
  summary: 'the 2.5 native-audio family: the 2025 behaviour, AUDIO only; proactivity and affective dialog on v1alpha',
  contextWindowTokens: 128_000,
  responseModalities: ['AUDIO'],
  defaultFunctionBehavior: 'BLOCKING',
  functionBehaviors: ['BLOCKING', 'NON_BLOCKING'],
  bargeInCancels: 'all',
  interruptWaitsForSpeech: false,
  interactionStatus: false,
  fillerTurns: false,
  usageMetadata: true,
  bundledParts: false,
  clientContent: 'anytime',
  turnCoverage: 'TURN_INCLUDES_ONLY_ACTIVITY',
  thinking: { config: 'optional', refusedLevels: [] },
  refusedFields: [],
  unknownFields: [alphaOnly('proactivity', 'setup'), alphaOnly('generationConfig.enableAffectiveDialog', 'setup.generation_config')],
  transcribeOnly: false,
};

const HALF_CASCADE: ModelProfile = {
  ...NATIVE_AUDIO_2_5,
  name: 'gemini-live-2.5-flash-preview',
  models: ['gemini-live-2.5-flash-preview', 'gemini-live-2.5-flash', 'gemini-2.0-flash-live-001', 'gemini-2.0-flash-live*', 'gemini-2.0-flash-exp'],
  summary: 'half-cascade models: TEXT or AUDIO, the 2025 behaviour',
  contextWindowTokens: 32_000,
  responseModalities: ['AUDIO', 'TEXT'],
  unknownFields: [
    notOnThisModel('proactivity', 'half-cascade models have no proactive audio'),
    notOnThisModel('generationConfig.enableAffectiveDialog', 'half-cascade models have no affective dialog'),
  ],
};

const TRANSCRIBE_3_5: ModelProfile = {
  ...LIVE_3_8,
  name: 'gemini-3.5-transcribe-live',
  models: ['gemini-3.5-transcribe-live', 'gemini-3.5-transcribe-live*'],
  summary: 'speech to text only: interim and final input transcripts, text out, no model turns',
  // Not published; the value only bounds compression, which a transcriber does not use.
  contextWindowTokens: 32_000,
  responseModalities: ['TEXT'],
  defaultFunctionBehavior: 'BLOCKING',
  bargeInCancels: 'all',
  interruptWaitsForSpeech: false,
  interactionStatus: false,
  usageMetadata: true,
  turnCoverage: 'TURN_INCLUDES_ONLY_ACTIVITY',
  thinking: { config: 'refused', refusedLevels: [] },
  refusedFields: [
    { field: 'tools', close: 'invalidArgument', why: 'a transcription model calls no functions' },
    { field: 'generationConfig.thinkingConfig', close: 'invalidArgument', why: 'a transcription model does not think' },
  ],
  transcribeOnly: true,
};

/**
 * What a model no profile names gets: the behaviour of the 2025 protocol (any modality, blocking
 * calls, no interaction status), the most lenient. A warning says so once per model.
 */
export const DEFAULT_PROFILE: ModelProfile = {
  ...HALF_CASCADE,
  name: 'default',
  models: [],
  summary: 'any model no profile names: the 2025 behaviour, TEXT or AUDIO, blocking calls',
};

export const BUILTIN_PROFILES: readonly ModelProfile[] = [
  LIVE_3_8,
  LIVE_3_8_EXTENDED_THINKING,
  LIVE_3_1,
  NATIVE_AUDIO_2_5,
  HALF_CASCADE,
  TRANSCRIBE_3_5,
];

/** The catalogue with the user's profiles (if any) in front of the built-in ones. */
export function modelCatalog(user: readonly ModelProfileOverride[] = []): ModelCatalog {
  return new ModelCatalog(BUILTIN_PROFILES, DEFAULT_PROFILE, user);
}
