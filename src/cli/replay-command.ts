/**
 * `relive replay FILE --url URL`: plays a recording's client side against a server and reports
 * where the server's answers differ in shape. Exit code 0: none; 1: some; 2: usage or I/O error.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readFailure } from '../input-errors.js';
import { readRecording, type Recording } from '../replay/recording.js';
import { replayRecording, displayUrl, targetUrl } from '../replay/replayer.js';
import { compareReplay, formatReport } from '../replay/report.js';
import { errorMessage } from '../errors.js';

export const REPLAY_USAGE = `relive replay — replay a recording (relive serve --record DIR) against a server

Usage: relive replay FILE [options]

Plays the client side of every connection in FILE, in the recorded order and causally (each
client frame once the server has answered what it had answered in the recording), then compares
the shapes of the server's messages and the closes with the recording. docs/recording.md.

Options:
  --url URL            server base URL, http(s):// or ws(s):// (default http://127.0.0.1:8765,
                       or GOOGLE_GEMINI_BASE_URL); without a path, each connection's recorded path
  --api-key KEY        sent as ?key= (default the URL's own key, else "relive")
  --timeout-ms N       how long to wait without any server message before giving a wait up and
                       reporting it (default 5000)
  --json               print the report as JSON
  -h, --help           show this help

Exit status: 0 no differences, 1 differences, 2 usage or I/O error.
`;

export interface ReplayCommandIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
}

export async function replayCommand(argv: string[], io: ReplayCommandIo): Promise<number> {
  let values: { url?: string; 'api-key'?: string; 'timeout-ms'?: string; json?: boolean; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: {
        url: { type: 'string' },
        'api-key': { type: 'string' },
        'timeout-ms': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    }));
  } catch (err) {
    return usageError(io, errorMessage(err));
  }
  if (values.help) {
    io.stdout.write(REPLAY_USAGE);
    return 0;
  }
  if (positionals.length !== 1) return usageError(io, positionals.length === 0 ? 'a recording FILE is needed' : 'one recording FILE at a time');
  const file = positionals[0]!;
  const url = values.url ?? io.env.GOOGLE_GEMINI_BASE_URL ?? 'http://127.0.0.1:8765';
  const timeoutMs = values['timeout-ms'] === undefined ? 5000 : Number(values['timeout-ms']);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) return usageError(io, '--timeout-ms must be a positive whole number');
  try {
    // Checked before anything is read: a bad URL is a usage error.
    targetUrl(url, '/', values['api-key']);
  } catch (err) {
    return usageError(io, err instanceof Error && err.message.startsWith('--url') ? err.message : `--url ${JSON.stringify(url)} is not a URL`);
  }

  const unreadable = await notARecordingFile(file);
  if (unreadable) {
    io.stderr.write(`relive replay: ${unreadable}\n`);
    return 2;
  }
  let recording: Recording;
  try {
    recording = await readRecording(file);
  } catch (err) {
    io.stderr.write(`relive replay: ${file}: ${readFailure(err)}\n`);
    return 2;
  }
  if (recording.connections.length === 0) {
    io.stderr.write(`relive replay: ${file} holds no connection${recording.warnings.length ? ` (${recording.warnings[0]})` : ''}\n`);
    return 2;
  }
  const replayed = await replayRecording(recording, { url, apiKey: values['api-key'], timeoutMs });
  const report = compareReplay(file, displayUrl(targetUrl(url, '/', undefined)), recording, replayed);
  io.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return report.differences === 0 ? 0 : 1;
}

/**
 * Why FILE cannot be replayed before it is opened: a directory (serve --record's DIR, the
 * likeliest mistake) is answered with the recordings in it.
 */
async function notARecordingFile(file: string): Promise<string | undefined> {
  let isDir: boolean;
  try {
    isDir = (await stat(file)).isDirectory();
  } catch (err) {
    return `${file}: ${readFailure(err)}`;
  }
  if (!isDir) return undefined;
  const names = (await readdir(file).catch(() => [] as string[])).filter((n) => n.endsWith('.ndjson')).sort();
  if (names.length === 0) return `${file} is a directory with no recording (*.ndjson) in it; give one recording file`;
  const shown = names.slice(0, 3).map((n) => join(file, n));
  return `${file} is a directory; replay one recording file in it, e.g. ${shown.join(', ')}${names.length > 3 ? ` (${names.length} in all)` : ''}`;
}

function usageError(io: ReplayCommandIo, message: string): number {
  io.stderr.write(`relive replay: ${message}\n${REPLAY_USAGE}`);
  return 2;
}
