/**
 * `--faults FILE`: fault rules (one, or a list) in JSON or YAML, checked whole before the server
 * starts, so a mistake is reported as the file's field and what it may be rather than as zod's dump.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { describeIssues, firstLine, readFailure } from '../input-errors.js';
import { FaultRule } from './faults.js';

/** The file's rules, each valid for FaultInjector.add; throws a message naming the file and field. */
export function loadFaultFile(path: string): unknown[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`--faults ${path}: ${readFailure(err)}`);
  }
  const json = path.toLowerCase().endsWith('.json');
  let raw: unknown;
  try {
    raw = json ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new Error(`${path}: not valid ${json ? 'JSON' : 'YAML'}: ${firstLine(err)}`);
  }
  const list = Array.isArray(raw) ? raw : [raw];
  const checked = FaultRule.array().safeParse(list);
  if (!checked.success) {
    // A single rule's fields are shown without the [0] the list around it would add.
    const input = Array.isArray(raw) ? list : raw;
    const error = Array.isArray(raw) ? checked.error : { ...checked.error, issues: checked.error.issues.map((i) => ({ ...i, path: i.path.slice(1) })) };
    throw new Error(describeIssues(error as typeof checked.error, input, { source: path }));
  }
  return list;
}
