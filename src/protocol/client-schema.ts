/**
 * Schemas of every client → server message (PROTOCOL.md §3), written once in lowerCamelCase.
 * They serve two purposes: validation at the boundary, and (through `normalize.ts`) the field
 * tree that tells which keys are proto fields to rename and which values are free-form user data.
 */
import { z } from 'zod';

/** Free-form `google.protobuf.Struct` values: user data whose keys are never renamed. */
const struct = z.record(z.string(), z.unknown());

/** int64 fields arrive as JSON strings or numbers. */
const int64 = z
  .union([z.number().int(), z.string().regex(/^-?\d+$/)])
  .transform((v) => Number(v));

/** proto3 JSON enums: the value's name, or its integer number. */
function protoEnum<const T extends readonly [string, ...string[]]>(names: T) {
  return z.union([z.enum(names), z.number().int().min(0).max(names.length - 1)]).transform((v) =>
    typeof v === 'number' ? names[v]! : v,
  );
}

const base64 = z.string().regex(/^[A-Za-z0-9+/\-_]*={0,2}$/, 'invalid base64');

export const Blob = z.object({ mimeType: z.string().optional(), data: base64.optional() });

export const FunctionCall = z.object({ id: z.string().optional(), name: z.string(), args: struct.optional() });

export const Scheduling = protoEnum(['SCHEDULING_UNSPECIFIED', 'SILENT', 'WHEN_IDLE', 'INTERRUPT']);

export const FunctionResponse = z.object({
  id: z.string().optional(),
  name: z.string().optional(),
  response: struct.optional(),
  willContinue: z.boolean().optional(),
  scheduling: Scheduling.optional(),
  parts: z.array(struct).optional(),
});

export const Part = z.object({
  text: z.string().optional(),
  inlineData: Blob.optional(),
  fileData: z.object({ mimeType: z.string().optional(), fileUri: z.string() }).optional(),
  functionCall: FunctionCall.optional(),
  functionResponse: FunctionResponse.optional(),
  executableCode: struct.optional(),
  codeExecutionResult: struct.optional(),
  thought: z.boolean().optional(),
  thoughtSignature: z.string().optional(),
  videoMetadata: struct.optional(),
});

export const Content = z.object({ role: z.string().optional(), parts: z.array(Part).optional() });

export const FunctionDeclaration = z.object({
  name: z.string(),
  description: z.string().optional(),
  parameters: struct.optional(),
  parametersJsonSchema: z.unknown().optional(),
  response: struct.optional(),
  responseJsonSchema: z.unknown().optional(),
  behavior: protoEnum(['UNSPECIFIED', 'BLOCKING', 'NON_BLOCKING']).optional(),
});

export const Tool = z.object({
  functionDeclarations: z.array(FunctionDeclaration).optional(),
  googleSearch: struct.optional(),
  googleSearchRetrieval: struct.optional(),
  codeExecution: struct.optional(),
  urlContext: struct.optional(),
  googleMaps: struct.optional(),
  computerUse: struct.optional(),
  fileSearch: struct.optional(),
  retrieval: struct.optional(),
});

export const Modality = protoEnum(['MODALITY_UNSPECIFIED', 'TEXT', 'IMAGE', 'AUDIO']);

export const SpeechConfig = z.object({
  voiceConfig: z
    .object({ prebuiltVoiceConfig: z.object({ voiceName: z.string().optional() }).optional() })
    .optional(),
  languageCode: z.string().optional(),
  multiSpeakerVoiceConfig: struct.optional(),
});

export const GenerationConfig = z.object({
  candidateCount: z.number().int().optional(),
  maxOutputTokens: z.number().int().optional(),
  temperature: z.number().optional(),
  topP: z.number().optional(),
  topK: z.number().optional(),
  presencePenalty: z.number().optional(),
  frequencyPenalty: z.number().optional(),
  seed: z.number().int().optional(),
  responseModalities: z.array(Modality).optional(),
  speechConfig: SpeechConfig.optional(),
  mediaResolution: protoEnum([
    'MEDIA_RESOLUTION_UNSPECIFIED',
    'MEDIA_RESOLUTION_LOW',
    'MEDIA_RESOLUTION_MEDIUM',
    'MEDIA_RESOLUTION_HIGH',
  ]).optional(),
  thinkingConfig: z
    .object({
      thinkingBudget: z.number().int().optional(),
      includeThoughts: z.boolean().optional(),
      thinkingLevel: z.string().optional(),
    })
    .optional(),
  enableAffectiveDialog: z.boolean().optional(),
  translationConfig: struct.optional(),
});

export const AutomaticActivityDetection = z.object({
  disabled: z.boolean().optional(),
  startOfSpeechSensitivity: protoEnum([
    'START_SENSITIVITY_UNSPECIFIED',
    'START_SENSITIVITY_HIGH',
    'START_SENSITIVITY_LOW',
  ]).optional(),
  endOfSpeechSensitivity: protoEnum([
    'END_SENSITIVITY_UNSPECIFIED',
    'END_SENSITIVITY_HIGH',
    'END_SENSITIVITY_LOW',
  ]).optional(),
  prefixPaddingMs: z.number().int().optional(),
  silenceDurationMs: z.number().int().optional(),
});

export const RealtimeInputConfig = z.object({
  automaticActivityDetection: AutomaticActivityDetection.optional(),
  activityHandling: protoEnum([
    'ACTIVITY_HANDLING_UNSPECIFIED',
    'START_OF_ACTIVITY_INTERRUPTS',
    'NO_INTERRUPTION',
  ]).optional(),
  turnCoverage: protoEnum([
    'TURN_COVERAGE_UNSPECIFIED',
    'TURN_INCLUDES_ONLY_ACTIVITY',
    'TURN_INCLUDES_ALL_INPUT',
    'TURN_INCLUDES_AUDIO_ACTIVITY_AND_ALL_VIDEO',
  ]).optional(),
  interimTranscriptTimestampEnabled: z.boolean().optional(),
});

export const SessionResumptionConfig = z.object({
  handle: z.string().optional(),
  transparent: z.boolean().optional(),
});

export const ContextWindowCompression = z.object({
  triggerTokens: int64.optional(),
  slidingWindow: z.object({ targetTokens: int64.optional() }).optional(),
});

export const Setup = z.object({
  model: z.string().min(1),
  generationConfig: GenerationConfig.optional(),
  systemInstruction: Content.optional(),
  tools: z.array(Tool).optional(),
  realtimeInputConfig: RealtimeInputConfig.optional(),
  sessionResumption: SessionResumptionConfig.optional(),
  contextWindowCompression: ContextWindowCompression.optional(),
  inputAudioTranscription: struct.optional(),
  outputAudioTranscription: struct.optional(),
  proactivity: z.object({ proactiveAudio: z.boolean().optional(), proactiveVideo: z.boolean().optional() }).optional(),
  historyConfig: z.object({ initialHistoryInClientContent: z.boolean().optional() }).optional(),
  safetySettings: z.array(struct).optional(),
  avatarConfig: struct.optional(),
  labels: z.record(z.string(), z.string()).optional(),
  explicitVadSignal: z.boolean().optional(),
});

export const ClientContent = z.object({
  turns: z.array(Content).optional(),
  turnComplete: z.boolean().optional(),
});

export const RealtimeInput = z.object({
  mediaChunks: z.array(Blob).optional(),
  audio: Blob.optional(),
  video: Blob.optional(),
  text: z.string().optional(),
  audioStreamEnd: z.boolean().optional(),
  activityStart: z.object({}).optional(),
  activityEnd: z.object({}).optional(),
});

export const ToolResponse = z.object({ functionResponses: z.array(FunctionResponse).optional() });

export const ContextUpdate = z.object({
  systemInstruction: Content.optional(),
  tools: z.object({ tools: z.array(Tool).optional() }).optional(),
});

/** The oneof of `BidiGenerateContentClientMessage`, plus SDK 3.1's `contextUpdate`. */
export const ClientMessageKinds = {
  setup: Setup,
  clientContent: ClientContent,
  realtimeInput: RealtimeInput,
  toolResponse: ToolResponse,
  contextUpdate: ContextUpdate,
} as const;

export type Blob = z.infer<typeof Blob>;
export type FunctionCall = z.infer<typeof FunctionCall>;
export type FunctionResponse = z.infer<typeof FunctionResponse>;
export type Part = z.infer<typeof Part>;
export type Content = z.infer<typeof Content>;
export type FunctionDeclaration = z.infer<typeof FunctionDeclaration>;
export type Tool = z.infer<typeof Tool>;
export type Setup = z.infer<typeof Setup>;
export type ClientContent = z.infer<typeof ClientContent>;
export type RealtimeInput = z.infer<typeof RealtimeInput>;
export type ToolResponse = z.infer<typeof ToolResponse>;
export type ContextUpdate = z.infer<typeof ContextUpdate>;
export type ClientMessageKind = keyof typeof ClientMessageKinds;

export type ClientMessage =
  | { kind: 'setup'; setup: Setup }
  | { kind: 'clientContent'; clientContent: ClientContent }
  | { kind: 'realtimeInput'; realtimeInput: RealtimeInput }
  | { kind: 'toolResponse'; toolResponse: ToolResponse }
  | { kind: 'contextUpdate'; contextUpdate: ContextUpdate };
