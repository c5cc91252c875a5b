/**
 * Model profiles: what one Live model does differently for session management, as data. The
 * table of built-in profiles is model-table.ts; a user's own (`--model-profile FILE`, the
 * `modelProfiles` option) are looked at first. A profile is plain JSON so a file can define one
 * whole or override a few fields of a built-in one.
 */

export type Modality = 'TEXT' | 'AUDIO';
export type FunctionBehavior = 'BLOCKING' | 'NON_BLOCKING';
export type TurnCoverageDefault = 'TURN_INCLUDES_ONLY_ACTIVITY' | 'TURN_INCLUDES_ALL_INPUT' | 'TURN_INCLUDES_AUDIO_ACTIVITY_AND_ALL_VIDEO';

/** A setup field the model refuses (or, under `strict`, does not know). */
export interface FieldRule {
  /** Dotted lowerCamelCase path inside `setup`, e.g. `generationConfig.thinkingConfig`. */
  readonly field: string;
  /** Refused only when the field has this value; absent: refused whenever it is present. */
  readonly equals?: unknown;
  /** `unknownField`: Google's "Unknown name … Cannot find field." close; `invalidArgument`: 1007 "Request contains an invalid argument.". */
  readonly close: 'invalidArgument' | 'unknownField';
  /** Only on these API versions (e.g. a field v1alpha knows and v1beta does not); absent: every version. */
  readonly apiVersions?: readonly string[];
  /** Said to the user (lint-setup, the log): why the model refuses it. */
  readonly why: string;
}

export interface ThinkingRules {
  /** `refused`: any thinkingConfig is 1007; `required`: exactly one of thinkingLevel / thinkingBudget. */
  readonly config: 'optional' | 'refused' | 'required';
  /** thinkingLevel values refused with 1007 (3.8 extended thinking refuses MINIMAL). */
  readonly refusedLevels: readonly string[];
}

export interface ModelProfile {
  /** The profile's name: the model id it is for. */
  readonly name: string;
  /**
   * Model ids it answers for, without `models/`. A trailing `*` matches any rest; the longest
   * matching entry over all profiles wins, so `gemini-3.8-live-extended-thinking*` beats `gemini-3.8-live*`.
   */
  readonly models: readonly string[];
  /** One line for docs and `relive models`. */
  readonly summary: string;
  readonly contextWindowTokens: number;
  /** Response modalities the model accepts; the first is used when the setup names none. */
  readonly responseModalities: readonly Modality[];
  /** What a declared function without `behavior` is. */
  readonly defaultFunctionBehavior: FunctionBehavior;
  /** Behaviours the model runs; a declaration asking for another runs as the default (strict mode: 1007). */
  readonly functionBehaviors: readonly FunctionBehavior[];
  /**
   * What a barge-in (user input while the model talks or waits on a call) withdraws with
   * toolCallCancellation: every pending call (2.5: "the server discards any pending function
   * calls"), or only BLOCKING ones (3.8: a NON_BLOCKING call runs on and its answer still counts).
   */
  readonly bargeInCancels: 'all' | 'blocking';
  /** An INTERRUPT-scheduled tool response waits until the user stops speaking (3.8) instead of cutting in at once. */
  readonly interruptWaitsForSpeech: boolean;
  /** `serverContent.interactionStatus` goes with every turnComplete. */
  readonly interactionStatus: boolean;
  /** One request may be answered by filler turns before the answer, each with its own turnComplete (extended thinking). */
  readonly fillerTurns: boolean;
  /** turnComplete carries usageMetadata. */
  readonly usageMetadata: boolean;
  /** One event may carry several fields (audio with its transcript); otherwise one kind per message. */
  readonly bundledParts: boolean;
  /** `anytime`: clientContent for the whole session; `initialHistory`: only as history seeded before the first model turn, with historyConfig. */
  readonly clientContent: 'anytime' | 'initialHistory';
  /** What `realtimeInputConfig.turnCoverage` UNSPECIFIED (or absent) means. */
  readonly turnCoverage: TurnCoverageDefault;
  readonly thinking: ThinkingRules;
  /** Setup fields the model refuses, with the close. */
  readonly refusedFields: readonly FieldRule[];
  /** Setup fields this model's API does not know: refused only in strict mode (loose mode ignores them). */
  readonly unknownFields: readonly FieldRule[];
  /** Speech to text only: the input is transcribed, the model never takes a turn. */
  readonly transcribeOnly: boolean;
}

/**
 * A profile as a file may give it: every field but `name` optional, filled from `extends` (or the
 * default profile). `thinking` is merged field by field, so it may give one of its two fields.
 */
export type ModelProfileOverride = Partial<Omit<ModelProfile, 'name' | 'thinking'>> & {
  readonly name: string;
  readonly extends?: string;
  readonly thinking?: Partial<ThinkingRules>;
};

/** Policy for names outside the catalogue: an emulator must not break on next month's model. */
export type UnknownModelPolicy = 'accept' | 'reject';

/** `models/x`, `publishers/google/models/x`, `projects/p/locations/l/publishers/google/models/x` → `x`. */
export function bareModelId(model: string): string {
  const at = model.lastIndexOf('models/');
  return at >= 0 ? model.slice(at + 'models/'.length) : model;
}

export interface ProfileMatch {
  readonly profile: ModelProfile;
  /** False: no profile names this model, and the default profile stands in. */
  readonly known: boolean;
}

/** How well `pattern` matches `id`: its length, or -1. Exact beats a prefix of the same length. */
function matchScore(pattern: string, id: string): number {
  if (pattern.endsWith('*')) {
    const prefix = pattern.slice(0, -1);
    return id.startsWith(prefix) ? prefix.length : -1;
  }
  return pattern === id ? pattern.length + 1 : -1;
}

/**
 * The profiles a server knows: the user's first, then the built-in ones. Lookups are by model id
 * in any of its spellings; a model no profile names gets `fallback`.
 */
export class ModelCatalog {
  private readonly all: readonly ModelProfile[];

  constructor(
    builtin: readonly ModelProfile[],
    readonly fallback: ModelProfile,
    user: readonly ModelProfileOverride[] = [],
  ) {
    const resolved: ModelProfile[] = [];
    for (const o of user) resolved.push(resolveOverride(o, [...resolved, ...builtin], fallback));
    // A user profile that keeps a built-in name replaces that one.
    const names = new Set(resolved.map((p) => p.name));
    this.all = [...resolved, ...builtin.filter((p) => !names.has(p.name))];
  }

  get profiles(): readonly ModelProfile[] {
    return this.all;
  }

  /** Every profile a lookup can give, the fallback last: what `relive models` and the control API list. */
  get listed(): readonly ModelProfile[] {
    return [...this.all, this.fallback];
  }

  lookup(model: string): ProfileMatch {
    const id = bareModelId(model);
    let best: ModelProfile | undefined;
    let bestScore = -1;
    for (const profile of this.all) {
      for (const pattern of profile.models) {
        const score = matchScore(pattern, id);
        // Earlier profiles (the user's) win ties.
        if (score > bestScore) {
          best = profile;
          bestScore = score;
        }
      }
    }
    return best ? { profile: best, known: true } : { profile: this.fallback, known: false };
  }

  byName(name: string): ModelProfile | undefined {
    return this.all.find((p) => p.name === name) ?? (this.fallback.name === name ? this.fallback : undefined);
  }
}

function resolveOverride(o: ModelProfileOverride, known: readonly ModelProfile[], fallback: ModelProfile): ModelProfile {
  const baseName = o.extends ?? o.name;
  const base = known.find((p) => p.name === baseName) ?? (fallback.name === baseName ? fallback : undefined);
  if (o.extends !== undefined && !base) throw new Error(`model profile ${o.name}: extends ${o.extends}, which no profile is named`);
  const { extends: _extends, ...fields } = o;
  const from = base ?? fallback;
  // A new profile that names no models answers for its own name.
  const models = fields.models ?? (base && o.extends === undefined ? base.models : [o.name]);
  return { ...from, ...fields, models, thinking: { ...from.thinking, ...fields.thinking } };
}
