/**
 * Messages for bad user input (scenario, faults and recording files): which field of which file
 * is wrong and what it may be. zod's own messages ("Invalid input", a JSON dump of every union
 * branch) say neither; its issue paths and union branches hold both.
 */
import type { z } from 'zod';
import { errorMessage } from './errors.js';

type Issue = z.core.$ZodIssue;
type Path = readonly PropertyKey[];

/** `rules[0].reply[1]`: array indices in brackets, as a user reads their file. */
export function formatPath(path: Path): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

/** A value shown in a message, short enough for one line. */
export function showValue(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function valueAt(root: unknown, path: Path): unknown {
  let v = root;
  for (const part of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[part];
  }
  return v;
}

/**
 * A union's error, reduced to the branch the input was closest to (fewest issues): `{text: 5}`
 * is a text step with a wrong type, not a failed call, close or delay. Its issues come back with
 * full paths. Undefined when no branch is closer than another.
 */
function closestBranch(issue: Extract<Issue, { code: 'invalid_union' }>): Issue[] | undefined {
  const branches = issue.errors;
  if (branches.length === 0) return undefined;
  const sizes = branches.map((b) => b.length);
  const best = Math.min(...sizes);
  if (sizes.filter((n) => n === best).length > 1) return undefined;
  return branches[sizes.indexOf(best)]!.map((i) => ({ ...i, path: [...issue.path, ...i.path] }) as Issue);
}

function describe(issue: Issue, input: unknown): { path: Path; text: string } {
  const path = issue.path;
  const at = valueAt(input, path);
  switch (issue.code) {
    case 'invalid_union': {
      const options = (issue as { options?: unknown[] }).options;
      if (Array.isArray(options) && options.length > 0) {
        // A discriminated union: the discriminator's value is wrong (zod puts the path on it).
        return { path, text: `${showValue(at)} is not allowed; expected one of ${options.map(String).join(', ')}` };
      }
      const branch = closestBranch(issue);
      if (branch && branch.length > 0) return describe(branch[0]!, input);
      return { path, text: `${showValue(at)} matches none of the allowed forms` };
    }
    case 'unrecognized_keys':
      return { path, text: `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}` };
    case 'invalid_type':
      return { path, text: at === undefined ? `missing (expected ${issue.expected})` : `expected ${issue.expected}, got ${showValue(at)}` };
    case 'invalid_value':
      return { path, text: `${showValue(at)} is not allowed; expected one of ${issue.values.map((v) => String(v)).join(', ')}` };
    default:
      return { path, text: `${issue.message}${at === undefined ? '' : ` (got ${showValue(at)})`}` };
  }
}

export interface DescribeOptions {
  /** Put in front of every line: the file's name. */
  readonly source?: string;
  /** Said for an issue at one of these places instead of zod's reading (e.g. "unknown step"). */
  readonly explain?: (issue: Issue, value: unknown) => string | undefined;
  /** How many issues to list; the rest are counted. Default 3. */
  readonly max?: number;
}

/** One line per issue (`scenario.yaml: rules[0].reply[1]: …`), at most `max` of them. */
export function describeIssues(error: z.ZodError, input: unknown, options: DescribeOptions = {}): string {
  const max = options.max ?? 3;
  const lines = error.issues.slice(0, max).map((issue) => {
    const custom = options.explain?.(issue, valueAt(input, issue.path));
    const { path, text } = custom === undefined ? describe(issue, input) : { path: issue.path, text: custom };
    const where = formatPath(path) || '(top level)';
    return `${options.source ? `${options.source}: ` : ''}${where}: ${text}`;
  });
  const more = error.issues.length - max;
  if (more > 0) lines.push(`(and ${more} more)`);
  return lines.join('\n');
}

/** Why a file could not be read, in words rather than an errno and a stack. */
export function readFailure(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a directory, not a file';
  if (code === 'EACCES') return 'permission denied';
  return firstLine(err);
}

/** An error's first line: parsers (yaml) append a code frame after it. */
export function firstLine(err: unknown): string {
  return (errorMessage(err)).split('\n')[0]!;
}
