/**
 * A JSON or YAML file a command is given (`--model-profile`, `lint-setup FILE`), read whole. The
 * messages name the flag and the file, as the other file options' do: `--flag FILE: no such file`,
 * `FILE: not valid YAML: …`. `.json` files are read as JSON (its errors are clearer for JSON);
 * anything else as YAML, which takes JSON too.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { firstLine, readFailure } from '../input-errors.js';

/** `flag`: the option that named the file, said in front of a read failure; none for a positional FILE. */
export function readDataFile(path: string, flag?: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`${flag ? `${flag} ` : ''}${path}: ${readFailure(err)}`);
  }
  const json = path.toLowerCase().endsWith('.json');
  let value: unknown;
  try {
    // Trimmed: JSON.parse quotes the text in its message, and a trailing newline would cut it at firstLine.
    value = json ? JSON.parse(text.trim()) : parseYaml(text);
  } catch (err) {
    throw new Error(`${path}: not valid ${json ? 'JSON' : 'YAML'}: ${firstLine(err)}`);
  }
  // An empty YAML file is null: say so rather than "expected object, got null".
  if (value === null || value === undefined) throw new Error(`${path}: the file is empty`);
  return value;
}
