#!/usr/bin/env node
/**
 * The `relive` command: `serve` (default) runs the server, `chat` talks to one from a terminal,
 * `replay` plays a recording against one, `exec` runs a command against a server started for it,
 * `models` lists the model profiles, `lint-setup` says what a model would refuse in a setup.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { errorMessage } from '../errors.js';
import { DEFAULT_LIFETIMES } from '../session/lifetimes.js';
import { logVoiceReport } from '../server/voice-report.js';
import { buildServer } from './build-server.js';
import { execCommand } from './exec-command.js';
import { lintSetupCommand } from './lint-setup-command.js';
import { createCliLogger } from './logger.js';
import { modelsCommand } from './models-command.js';
import { loadChat, sdkAvailable } from './official-sdk.js';
import { replayCommand } from './replay-command.js';
import { parseServeArgs, SERVE_USAGE } from './serve-options.js';
import { untilStopped } from './stop-on-signals.js';

const USAGE = `relive — Gemini Live API session management: server, emulator, client tools

Usage:
  relive [serve] [options]   run the server (default command); relive serve --help for options
  relive chat [options]      type turns to a relive (or Gemini) Live endpoint; relive chat --help
  relive replay FILE [options]
                             replay a recording (serve --record DIR) against a server and report
                             where its answers differ; relive replay --help
  relive exec [options] -- CMD [ARG…]
                             start a server (any serve option; memory store), run CMD with
                             GOOGLE_GEMINI_BASE_URL and RELIVE_URL pointing at it, stop the server
                             when CMD ends, exit with CMD's status; relive exec --help
  relive models [options]    list the model profiles (with --model-profile FILE, yours too);
                             relive models --help
  relive lint-setup FILE [options]
                             would the model take this setup? The close the service would send,
                             and why; relive lint-setup --help
  relive --version
`;

const CHAT_USAGE = `relive chat — a terminal client built on @google/genai

Usage: relive chat [options]

Options:
  --url URL            server base URL (default http://127.0.0.1:8765, or GOOGLE_GEMINI_BASE_URL)
  --model NAME         model (default gemini-live-2.5-flash-preview)
  --audio              ask for AUDIO replies (shown as transcripts); default TEXT
  --voice NAME         prebuilt voice for AUDIO (Puck, Kore, …)
  --api-key KEY        API key (default GEMINI_API_KEY or GOOGLE_API_KEY, else "relive")
  --api-version V      v1, v1beta or v1alpha (default v1beta)
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function serve(argv: string[]): Promise<number> {
  const parsed = parseServeArgs(argv, process.env);
  if ('help' in parsed) {
    process.stdout.write(SERVE_USAGE);
    return 0;
  }
  const { logger } = createCliLogger({ level: parsed.logLevel, format: parsed.logFormat });
  if (parsed.engine.kind === 'gemini' && !(await sdkAvailable('relive --engine gemini', process.stderr))) return 1;
  const { server, gateway, tokenizerName } = await buildServer(parsed, logger);
  const choice = parsed.engine;
  const { url, voice } = await server.listen();
  const drainNoticeMs = parsed.drainNoticeMs ?? parsed.options.lifetimes?.goAwayNoticeMs ?? DEFAULT_LIFETIMES.goAwayNoticeMs;
  // Listening for signals before the line that says relive is up: a supervisor that sends SIGTERM
  // as soon as it reads that line must get a drain, not the default death.
  const stopped = untilStopped(server, logger, {
    drainNoticeMs: parsed.drainNoticeMs,
    // Deadlines run on the server's clock; a manual one may never move, and the drain's real-time backstop ends it a second after the notice.
    drainAtMostMs: parsed.clock === 'manual' ? drainNoticeMs + 1000 : drainNoticeMs / (parsed.timeScale ?? 1),
  });
  logger.info(
    {
      url,
      mode: choice.kind === 'openai' ? 'self-host' : choice.kind === 'gemini' ? 'gateway' : 'emulator',
      engine: choice.kind,
      ...(choice.kind === 'openai' ? { openaiBaseUrl: choice.baseUrl, openaiModel: choice.model, openaiApiKey: choice.apiKey ? 'set' : 'none' } : {}),
      ...(choice.kind === 'gemini' ? { upstreamUrl: choice.upstreamUrl ?? 'https://generativelanguage.googleapis.com', upstreamModel: choice.model, upstreamApiKey: choice.apiKey ? 'set' : 'none' } : {}),
      store: parsed.storeSpec,
      node: server.nodeId,
      tokenizer: tokenizerName,
      timeScale: parsed.timeScale,
      clock: parsed.clock,
      script: parsed.scriptPath,
      strict: parsed.options.strict ?? false,
      apiKeys: parsed.options.apiKeys ? 'allow-list' : 'any',
      record: parsed.options.recordDir,
      modelProfiles: parsed.options.modelProfiles?.map((p) => p.name),
    },
    `relive listening on ${url} — point clients at it with GOOGLE_GEMINI_BASE_URL=${url} or new GoogleGenAI({ apiKey, httpOptions: { baseUrl: '${url}' } })`,
  );
  // After the URL line, which is the first a person reads.
  logVoiceReport(logger, voice);
  // Not awaited: an upstream that is down now may come up; the check only says so, in one line.
  void gateway?.checkUpstream();
  await stopped;
  logger.info({}, 'stopped');
  return 0;
}


async function chat(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' },
      model: { type: 'string' },
      audio: { type: 'boolean' },
      voice: { type: 'string' },
      'api-key': { type: 'string' },
      'api-version': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(CHAT_USAGE);
    return 0;
  }
  const runChat = await loadChat(process.stderr);
  if (!runChat) return 1;
  return runChat({
    url: values.url ?? process.env.GOOGLE_GEMINI_BASE_URL ?? 'http://127.0.0.1:8765',
    model: values.model ?? 'gemini-live-2.5-flash-preview',
    apiKey: values['api-key'] ?? process.env.GEMINI_API_KEY ?? process.env.GOOGLE_API_KEY ?? 'relive',
    apiVersion: values['api-version'] ?? 'v1beta',
    modality: values.audio ? 'AUDIO' : 'TEXT',
    voice: values.voice,
    input: process.stdin,
    output: process.stdout,
  });
}

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--version' || first === '-v') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (first === 'chat') return chat(rest);
  if (first === 'replay') return replayCommand(rest, { stdout: process.stdout, stderr: process.stderr, env: process.env });
  if (first === 'exec') return execCommand(rest, { stdout: process.stdout, stderr: process.stderr, env: process.env });
  if (first === 'models') return modelsCommand(rest, { stdout: process.stdout, stderr: process.stderr });
  if (first === 'lint-setup') return lintSetupCommand(rest, { stdout: process.stdout, stderr: process.stderr });
  if (first === 'serve') return serve(rest);
  return serve(argv);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`relive: ${errorMessage(err)}\n`);
    process.exitCode = 2;
  },
);
