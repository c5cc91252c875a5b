#!/usr/bin/env node
/**
 * The `relive` command: `serve` (default) runs the server, `chat` talks to one from a terminal,
 * `replay` plays a recording against one.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { OpenAIEngine } from '../engine/openai/openai-engine.js';
import { GeminiEngine } from '../engine/gemini/gemini-engine.js';
import { sessionHandleStore } from '../engine/gemini/session-handle-store.js';
import { createOpenAITranscriptionRecognizer } from '../media/stt/openai-transcription.js';
import { createOpenAISpeechSynthesizer } from '../media/tts/openai-speech.js';
import { loadScenario } from '../engine/scripted/scenario.js';
import { createServer } from '../server/create-server.js';
import { loadFaultFile } from '../server/fault-file.js';
import { ManualClock, ScaledClock } from '../session/clock.js';
import { openStore } from '../store/open-store.js';
import { loadTokenizer } from '../tokenizer/select.js';
import { runChat } from './chat.js';
import { replayCommand } from './replay-command.js';
import { parseServeArgs, SERVE_USAGE } from './serve-options.js';

const USAGE = `relive — Gemini Live API session management: server, emulator, client tools

Usage:
  relive [serve] [options]   run the server (default command); relive serve --help for options
  relive chat [options]      type turns to a relive (or Gemini) Live endpoint; relive chat --help
  relive replay FILE [options]
                             replay a recording (serve --record DIR) against a server and report
                             where its answers differ; relive replay --help
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
  const logger = pino({ name: 'relive', level: parsed.logLevel });
  // Made here rather than left to the recorder, which only logs: asked for on the command line, a
  // directory that cannot be made is an error to stop at.
  if (parsed.options.recordDir) mkdirSync(parsed.options.recordDir, { recursive: true });
  const scenario = parsed.scriptPath ? await loadScenario(parsed.scriptPath) : undefined;
  const faultRules = parsed.faultsPath ? loadFaultFile(parsed.faultsPath) : [];
  const store = await openStore(parsed.storeSpec);
  const clock = parsed.clock === 'manual' ? new ManualClock(Date.now()) : parsed.timeScale ? new ScaledClock(parsed.timeScale) : undefined;
  const tokenizer = await loadTokenizer(parsed.tokenizer);
  const choice = parsed.engine;
  const engine =
    choice.kind === 'openai'
      ? new OpenAIEngine({ baseUrl: choice.baseUrl, model: choice.model, apiKey: choice.apiKey, log: logger })
      : choice.kind === 'gemini'
        ? new GeminiEngine({ baseUrl: choice.upstreamUrl, model: choice.model, apiKey: choice.apiKey, handleStore: (id) => sessionHandleStore(store, id), log: logger })
        : undefined;
  // The OpenAI-compatible server's own speech endpoints, when asked for, replace pocketsphinx and flite.
  const audio =
    choice.kind === 'openai'
      ? {
          ...(choice.sttModel ? { speechRecognizer: createOpenAITranscriptionRecognizer({ baseUrl: choice.baseUrl, apiKey: choice.apiKey, model: choice.sttModel, log: logger }) } : {}),
          ...(choice.ttsModel ? { speech: createOpenAISpeechSynthesizer({ baseUrl: choice.baseUrl, apiKey: choice.apiKey, model: choice.ttsModel, voice: choice.ttsVoice }) } : {}),
        }
      : {};
  const server = createServer({ ...parsed.options, scenario, logger, store, clock, tokenizer, engine, ...audio });
  for (const rule of faultRules) server.faults.add(rule);
  const { url } = await server.listen();
  logger.info(
    {
      url,
      mode: choice.kind === 'openai' ? 'self-host' : choice.kind === 'gemini' ? 'gateway' : 'emulator',
      engine: choice.kind,
      ...(choice.kind === 'openai' ? { openaiBaseUrl: choice.baseUrl, openaiModel: choice.model, openaiApiKey: choice.apiKey ? 'set' : 'none' } : {}),
      ...(choice.kind === 'gemini' ? { upstreamUrl: choice.upstreamUrl ?? 'https://generativelanguage.googleapis.com', upstreamModel: choice.model, upstreamApiKey: choice.apiKey ? 'set' : 'none' } : {}),
      store: parsed.storeSpec,
      node: server.nodeId,
      tokenizer: tokenizer.name,
      timeScale: parsed.timeScale,
      clock: parsed.clock,
      script: parsed.scriptPath,
      strict: parsed.options.strict ?? false,
      apiKeys: parsed.options.apiKeys ? 'allow-list' : 'any',
      record: parsed.options.recordDir,
    },
    `relive listening on ${url} — point clients at it with GOOGLE_GEMINI_BASE_URL=${url} or new GoogleGenAI({ apiKey, httpOptions: { baseUrl: '${url}' } })`,
  );
  // Not awaited: an upstream that is down now may come up; the check only says so, in one line.
  if (engine instanceof GeminiEngine) void engine.checkUpstream();
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      // A second signal while draining means: stop now.
      if (stopping) {
        logger.warn({ signal }, 'second signal: closing at once');
        server.close().then(resolve, resolve);
        return;
      }
      stopping = true;
      logger.info({ signal }, 'draining: goAway to every connection, new ones refused');
      server.drain(parsed.drainNoticeMs).then(resolve, (err: unknown) => {
        logger.error({ err: err instanceof Error ? err.message : String(err) }, 'drain failed');
        resolve();
      });
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
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
  if (first === 'serve') return serve(rest);
  return serve(argv);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`relive: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
