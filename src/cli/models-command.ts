/**
 * `relive models [--model-profile FILE]… [--json]`: the profiles a server started with the same
 * files would run, so a user can see what their file changed before serving with it.
 */
import { parseArgs } from 'node:util';
import { errorMessage } from '../errors.js';
import { modelCatalog } from '../session/model-table.js';
import type { ModelProfile } from '../session/models.js';
import { loadProfileFiles, type LoadedProfile } from './profile-file.js';

export const MODELS_USAGE = `relive models — the model profiles relive runs sessions with

Usage: relive models [--model-profile FILE]… [--json]

Lists every profile: its name, the model ids it answers for (a trailing * matches any rest), what
it does in one line, its context window, the response modalities it takes, what a function
declared without behavior is, and whether turnComplete carries interactionStatus and
usageMetadata. With --model-profile your profiles are listed too, resolved as relive serve
--model-profile runs them. docs/models.md.

Options:
  --model-profile FILE  model profiles of your own (JSON or YAML: one profile or a list); repeatable
  --json                print the resolved profiles as JSON: {"profiles": [...]}, the default
                        profile (for models no profile names) last
  -h, --help            show this help

Exit status: 0; 2 for a usage error or a bad profile file.
`;

export interface ModelsCommandIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

export function modelsCommand(argv: string[], io: ModelsCommandIo): number {
  let values: { 'model-profile'?: string[]; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'model-profile': { type: 'string', multiple: true },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    io.stderr.write(`relive models: ${errorMessage(err)}\n\n${MODELS_USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(MODELS_USAGE);
    return 0;
  }
  let loaded: LoadedProfile[];
  try {
    loaded = loadProfileFiles(values['model-profile'] ?? []);
  } catch (err) {
    io.stderr.write(`relive models: ${errorMessage(err)}\n`);
    return 2;
  }
  const catalog = modelCatalog(loaded.map((l) => l.profile));
  if (values.json) {
    io.stdout.write(`${JSON.stringify({ profiles: catalog.listed }, null, 2)}\n`);
    return 0;
  }
  io.stdout.write(formatProfiles(catalog.listed, catalog.fallback.name, loaded));
  return 0;
}

const yesNo = (b: boolean): string => (b ? 'yes' : 'no');

/** One block per profile: a person scans it, and a wide table would not fit a terminal. */
export function formatProfiles(profiles: readonly ModelProfile[], fallbackName: string, loaded: readonly LoadedProfile[]): string {
  const blocks = profiles.map((p) => {
    const own = [...loaded].reverse().find((l) => l.profile.name === p.name);
    const origin = own ? `  (from ${own.source}${own.profile.extends !== undefined ? `, extends ${own.profile.extends}` : ''})` : '';
    const others = p.functionBehaviors.filter((b) => b !== p.defaultFunctionBehavior);
    const behaviours = others.length > 0 ? ` (also ${others.join(', ')})` : ' (only)';
    const rows: [string, string][] = [
      ['models', p.name === fallbackName ? 'any model no profile names' : p.models.join(', ') || '(none)'],
      ['summary', p.summary],
      ['context window', `${p.contextWindowTokens.toLocaleString('en-US')} tokens`],
      ['modalities', p.responseModalities.join(', ')],
      ['functions', `${p.defaultFunctionBehavior} by default${behaviours}`],
      ['interactionStatus', yesNo(p.interactionStatus)],
      ['usageMetadata', yesNo(p.usageMetadata)],
    ];
    return [`${p.name}${origin}`, ...rows.map(([k, v]) => `  ${k.padEnd(18)} ${v}`)].join('\n');
  });
  return `${blocks.join('\n\n')}\n`;
}
