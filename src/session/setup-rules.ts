/**
 * What a model refuses in a `setup`, read off its profile (models.ts): a response modality it
 * does not produce, the fields it refuses, its thinkingConfig rule and, in strict mode, the fields
 * its API version does not know. The real service closes before setupComplete; so does relive,
 * with the same code and reason, so an app meets the refusal in its tests, not in production.
 */
import type { Setup } from '../protocol/client-schema.js';
import { CloseReasons, unknownFieldClose, type CloseSpec } from '../protocol/close-codes.js';
import type { FieldRule, ModelProfile } from './models.js';

export interface SetupRefusal {
  readonly close: CloseSpec;
  /** For the log: which rule, and why the model has it. */
  readonly detail: string;
}

export interface SetupRuleOptions {
  readonly apiVersion: string;
  readonly strict: boolean;
}

/** The value at a dotted path inside the setup, or undefined. */
function valueAt(setup: Setup, path: string): unknown {
  let at: unknown = setup;
  for (const key of path.split('.')) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

const snake = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function applies(rule: FieldRule, setup: Setup, apiVersion: string): boolean {
  if (rule.apiVersions && !rule.apiVersions.includes(apiVersion)) return false;
  const value = valueAt(setup, rule.field);
  if (value === undefined) return false;
  return rule.equals === undefined || value === rule.equals;
}

function closeFor(rule: FieldRule): CloseSpec {
  if (rule.close === 'invalidArgument') return CloseReasons.invalidArgument;
  // Google names the field as sent and the message path to it in snake_case.
  const parts = rule.field.split('.');
  const at = ['setup', ...parts.slice(0, -1).map(snake)].join('.');
  return unknownFieldClose(parts.at(-1)!, at);
}

/** The first thing in `setup` that the profile's model refuses, in the order the checks run. */
export function setupRefusal(setup: Setup, modality: string, profile: ModelProfile, options: SetupRuleOptions): SetupRefusal | undefined {
  const refuse = (close: CloseSpec, detail: string): SetupRefusal => ({ close, detail: `${profile.name}: ${detail}` });
  if (!(profile.responseModalities as readonly string[]).includes(modality)) {
    return refuse(CloseReasons.invalidArgument, `responseModalities ${modality}: the model answers only ${profile.responseModalities.join(' or ')}`);
  }
  for (const rule of profile.refusedFields) {
    if (applies(rule, setup, options.apiVersion)) return refuse(closeFor(rule), `${rule.field}: ${rule.why}`);
  }
  const thinking = setup.generationConfig?.thinkingConfig;
  if (profile.thinking.config === 'refused' && thinking !== undefined) {
    return refuse(CloseReasons.invalidArgument, 'thinkingConfig: the model does not take one');
  }
  if (profile.thinking.config === 'required') {
    const given = [thinking?.thinkingLevel, thinking?.thinkingBudget].filter((v) => v !== undefined).length;
    if (given !== 1) return refuse(CloseReasons.invalidArgument, 'thinkingConfig: exactly one of thinkingLevel and thinkingBudget is required');
  }
  const level = thinking?.thinkingLevel;
  if (level !== undefined && profile.thinking.refusedLevels.includes(level)) {
    return refuse(CloseReasons.invalidArgument, `thinkingLevel ${level} is not supported`);
  }
  if (options.strict) {
    for (const rule of profile.unknownFields) {
      if (applies(rule, setup, options.apiVersion)) return refuse(closeFor(rule), `${rule.field}: ${rule.why}`);
    }
    // Loose mode runs such a declaration with the model's default behaviour instead.
    for (const tool of setup.tools ?? []) {
      for (const fd of tool.functionDeclarations ?? []) {
        const b = fd.behavior;
        if ((b === 'BLOCKING' || b === 'NON_BLOCKING') && !profile.functionBehaviors.includes(b)) {
          return refuse(CloseReasons.invalidArgument, `function ${fd.name} behavior ${b}: the model runs only ${profile.functionBehaviors.join(' and ')} calls`);
        }
      }
    }
  }
  return undefined;
}
