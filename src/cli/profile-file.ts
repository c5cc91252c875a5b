/**
 * `--model-profile FILE` (serve, exec, models, lint-setup): model profile overrides, one object or
 * a list, in JSON or YAML. Checked whole before anything starts, so a misspelled field, a wrong
 * type or an `extends` naming no profile stops the command with the file and the field, rather
 * than a server running a profile the user did not mean.
 */
import type { z } from 'zod';
import { describeIssues, showValue } from '../input-errors.js';
import { modelCatalog } from '../session/model-table.js';
import type { ModelProfileOverride } from '../session/models.js';
import { FieldRuleSchema, ModelProfileOverrideSchema, ThinkingSchema } from '../session/profile-schema.js';
import { readDataFile } from './data-file.js';

export interface LoadedProfile {
  readonly profile: ModelProfileOverride;
  /** The file it came from, for `relive models`. */
  readonly source: string;
}

/** Every file's profiles, in order (a later file may extend an earlier one's profile). Throws a message naming the file and field. */
export function loadProfileFiles(paths: readonly string[]): LoadedProfile[] {
  const loaded: LoadedProfile[] = [];
  for (const path of paths) {
    const raw = readDataFile(path, '--model-profile');
    const list = Array.isArray(raw) ? raw : [raw];
    const checked = ModelProfileOverrideSchema.array().safeParse(list);
    if (!checked.success) {
      // A file of one profile has its fields shown without the [0] of the list around it.
      const error = Array.isArray(raw) ? checked.error : { ...checked.error, issues: checked.error.issues.map((i) => ({ ...i, path: i.path.slice(1) })) };
      throw new Error(describeIssues(error as typeof checked.error, raw, { source: path, explain: explainIssue }));
    }
    checked.data.forEach((profile, i) => {
      checkExtends(profile, loaded.map((l) => l.profile), Array.isArray(raw) ? `[${i}].extends` : 'extends', path);
      loaded.push({ profile, source: path });
    });
  }
  return loaded;
}

/** A misspelled field is answered with the fields that object may have. */
function explainIssue(issue: z.core.$ZodIssue): string | undefined {
  if (issue.code !== 'unrecognized_keys') return undefined;
  const path = issue.path;
  const inRules = path.length >= 2 && (path.at(-2) === 'refusedFields' || path.at(-2) === 'unknownFields');
  const shape = path.at(-1) === 'thinking' ? ThinkingSchema.shape : inRules ? FieldRuleSchema.shape : ModelProfileOverrideSchema.shape;
  return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}; allowed: ${Object.keys(shape).join(', ')}`;
}

/** Resolved by the catalogue itself, the server's own rule: a profile extends a built-in one or one given before it. */
function checkExtends(profile: ModelProfileOverride, before: readonly ModelProfileOverride[], where: string, path: string): void {
  if (profile.extends === undefined) return;
  try {
    modelCatalog([...before, profile]);
  } catch {
    const known = modelCatalog(before).listed.map((p) => p.name);
    throw new Error(`${path}: ${where}: ${showValue(profile.extends)} names no profile; it may be one of ${known.join(', ')}`);
  }
}
