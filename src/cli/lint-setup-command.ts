/**
 * `relive lint-setup FILE`: what the model a setup names would refuse in it, without connecting.
 * The verdict is the server's own (session/setup-lint.ts runs the parser and checkSetup a
 * connection runs), for a server started with the same --strict and --model-profile.
 */
import { parseArgs } from 'node:util';
import { errorMessage } from '../errors.js';
import { resolveSettings } from '../server/options.js';
import { lintSetup, type SetupLint } from '../session/setup-lint.js';
import { readDataFile } from './data-file.js';
import { loadProfileFiles } from './profile-file.js';

export const LINT_SETUP_USAGE = `relive lint-setup — would the model take this setup? Checked without connecting

Usage: relive lint-setup FILE [--model NAME] [--api-version V] [--strict] [--model-profile FILE]…

FILE holds a setup message as a client sends it, {"setup": {...}}, or the setup object itself,
in JSON or YAML (snake_case or camelCase fields). It is checked exactly as relive serve checks a
setup at connect, against the profile of the model it names (relive models lists them): the close
code and reason the service answers with, and why the model refuses it. docs/models.md.

Options:
  --model NAME          check against this model instead of the setup's own
  --api-version V       the API version the client connects with: v1, v1beta (default) or v1alpha
  --strict              as relive serve --strict: fields the model's API does not know and models
                        no profile names are refused too
  --model-profile FILE  model profiles of your own (JSON or YAML), as for relive serve; repeatable
  -h, --help            show this help

Exit status: 0 the setup is accepted, 1 it is refused, 2 usage error or not a setup.
`;

const API_VERSIONS = ['v1', 'v1beta', 'v1alpha'];

export interface LintSetupCommandIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

export function lintSetupCommand(argv: string[], io: LintSetupCommandIo): number {
  const usageError = (message: string): number => {
    io.stderr.write(`relive lint-setup: ${message}\n\n${LINT_SETUP_USAGE}`);
    return 2;
  };
  let values: { model?: string; 'api-version'?: string; strict?: boolean; 'model-profile'?: string[]; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: {
        model: { type: 'string' },
        'api-version': { type: 'string' },
        strict: { type: 'boolean' },
        'model-profile': { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    }));
  } catch (err) {
    return usageError(errorMessage(err));
  }
  if (values.help) {
    io.stdout.write(LINT_SETUP_USAGE);
    return 0;
  }
  if (positionals.length !== 1) return usageError(positionals.length === 0 ? 'a setup FILE is needed' : 'one setup FILE at a time');
  const apiVersion = values['api-version'] ?? 'v1beta';
  if (!API_VERSIONS.includes(apiVersion)) return usageError(`--api-version must be one of ${API_VERSIONS.join(', ')}; got ${JSON.stringify(apiVersion)}`);
  if (values.model !== undefined && values.model.trim() === '') return usageError('--model needs a model name');
  const file = positionals[0]!;
  let verdict: SetupLint;
  try {
    const modelProfiles = loadProfileFiles(values['model-profile'] ?? []).map((l) => l.profile);
    const message = readDataFile(file);
    // The server's own defaults for everything the command line does not set.
    verdict = lintSetup(message, resolveSettings({ strict: values.strict ?? false, modelProfiles }), apiVersion, values.model?.trim());
  } catch (err) {
    io.stderr.write(`relive lint-setup: ${errorMessage(err)}\n`);
    return 2;
  }
  if (verdict.kind === 'malformed') {
    io.stderr.write(`relive lint-setup: ${file}: not a setup: ${verdict.detail}\n`);
    return 2;
  }
  if (verdict.kind === 'refused') {
    io.stdout.write(
      `refused: ${verdict.model} (${verdict.profile}) closes the connection before setupComplete\n` +
        `  close: ${verdict.close.code} ${verdict.close.reason}\n` +
        `  why:   ${verdict.detail}\n`,
    );
    return 1;
  }
  const notes: string[] = [];
  if (!verdict.knownModel) {
    notes.push(`no profile names ${verdict.model}: relive runs it with the ${verdict.profile} profile, and --strict refuses it`);
  }
  for (const f of verdict.ignoredFields) {
    notes.push(`unknown field ${f.name}${f.at ? ` at ${f.at}` : ''}: relive ignores it, --strict refuses it as the service does`);
  }
  io.stdout.write(`ok: ${verdict.model} (${verdict.profile}) accepts this setup\n${notes.map((n) => `  note: ${n}\n`).join('')}`);
  return 0;
}
