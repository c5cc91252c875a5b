/**
 * The shape of a model profile override as a user writes it (`--model-profile FILE`), checked at
 * the boundary so that a misspelled field or a wrong type is reported as the file's field instead
 * of running a profile that silently lacks it. The field list is tied to ModelProfileOverride at
 * compile time: a field added to the profile type and not here fails the build.
 */
import { z } from 'zod';
import type { FieldRule, ModelProfileOverride, ThinkingRules } from './models.js';

const Modality = z.enum(['TEXT', 'AUDIO']);
const FunctionBehavior = z.enum(['BLOCKING', 'NON_BLOCKING']);

export const FieldRuleSchema = z
  .object({
    field: z.string().min(1),
    equals: z.unknown().optional(),
    close: z.enum(['invalidArgument', 'unknownField']),
    apiVersions: z.array(z.string().min(1)).optional(),
    why: z.string().min(1),
  } satisfies Record<keyof FieldRule, z.ZodType>)
  .strict();

export const ThinkingSchema = z
  .object({
    config: z.enum(['optional', 'refused', 'required']).optional(),
    refusedLevels: z.array(z.string().min(1)).optional(),
  } satisfies Record<keyof ThinkingRules, z.ZodType>)
  .strict();

const fields = {
  name: z.string().min(1),
  extends: z.string().min(1).optional(),
  models: z.array(z.string().min(1)).optional(),
  summary: z.string().optional(),
  contextWindowTokens: z.number().int().positive().optional(),
  // The first is the one used when a setup names none, so there must be one.
  responseModalities: z.array(Modality).min(1).optional(),
  defaultFunctionBehavior: FunctionBehavior.optional(),
  functionBehaviors: z.array(FunctionBehavior).min(1).optional(),
  bargeInCancels: z.enum(['all', 'blocking']).optional(),
  interruptWaitsForSpeech: z.boolean().optional(),
  interactionStatus: z.boolean().optional(),
  fillerTurns: z.boolean().optional(),
  usageMetadata: z.boolean().optional(),
  bundledParts: z.boolean().optional(),
  clientContent: z.enum(['anytime', 'initialHistory']).optional(),
  turnCoverage: z.enum(['TURN_INCLUDES_ONLY_ACTIVITY', 'TURN_INCLUDES_ALL_INPUT', 'TURN_INCLUDES_AUDIO_ACTIVITY_AND_ALL_VIDEO']).optional(),
  thinking: ThinkingSchema.optional(),
  refusedFields: z.array(FieldRuleSchema).optional(),
  unknownFields: z.array(FieldRuleSchema).optional(),
  transcribeOnly: z.boolean().optional(),
} satisfies Record<keyof ModelProfileOverride, z.ZodType>;

/** One override: `name`, optional `extends`, any profile fields; nothing else. */
export const ModelProfileOverrideSchema = z.object(fields).strict() satisfies z.ZodType<ModelProfileOverride>;
