/**
 * Everything `createServer` can be told, with the defaults PROTOCOL.md decides, and those
 * defaults applied (resolveSettings): the settings an assembled server runs with.
 */
import type { Logger } from 'pino';
import { checkNodeId, newNodeId } from '../cluster/node-id.js';
import type { Scenario } from '../engine/scripted/scenario.js';
import type { Clock } from '../session/clock.js';
import type { Engine } from '../session/engine.js';
import type { ModelProfileOverride, UnknownModelPolicy } from '../session/models.js';
import { modelCatalog } from '../session/model-table.js';
import type { ModelCatalog } from '../session/models.js';
import type { SpeechSynthesizer } from '../session/speech.js';
import { DEFAULT_LIFETIMES, type Lifetimes } from '../session/lifetimes.js';
import type { SessionStore } from '../session/store.js';
import { DEFAULT_TOKEN_RATES, type TextTokenizer, type TokenRates } from '../session/tokens.js';
import type { SpeechRecognizer, VoiceActivityDetector } from '../session/voice.js';

export interface ServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8765; 0 picks a free port. */
  port?: number;
  /** Keys accepted on the Live endpoint; empty or absent accepts any key (emulator default). */
  apiKeys?: readonly string[];
  /** Guards /relive/v1/*; absent leaves the control API open. */
  adminToken?: string;
  /** The model; default the scripted engine (with `scenario` when given). close() of the server closes it too. */
  engine?: Engine;
  scenario?: Scenario;
  /** Text-to-speech for AUDIO replies; default flite in worker threads. */
  speech?: SpeechSynthesizer;
  clock?: Clock;
  /** Strict conformance: refuse what the real service refuses (unknown fields, unknown models, …). */
  strict?: boolean;
  /** Largest accepted client frame; default 15 MiB. */
  maxFrameBytes?: number;
  /** Close connections that send no setup within this time; default 30 s. */
  setupTimeoutMs?: number;
  /** Ping idle clients this often and drop them after two missed pongs; 0 disables. Default 30 s. */
  keepaliveIntervalMs?: number;
  /** Default: accept (and log) unknown models; strict mode rejects them. */
  unknownModels?: UnknownModelPolicy;
  /** Models accepted in addition to the built-in catalogue. */
  extraModels?: readonly string[];
  /**
   * Model profiles of your own, looked at before the built-in ones (docs/models.md): a new model,
   * or a built-in one with some fields changed (`extends`, or the same `name`).
   */
  modelProfiles?: readonly ModelProfileOverride[];
  /** Put the session id into setupComplete (default true). */
  sessionIdInSetupComplete?: boolean;
  /** Milliseconds of audio per output chunk; default 100. */
  audioChunkMs?: number;
  /** Output queued per connection before generation waits for the client; default 1 MiB. */
  outboundHighWaterMark?: number;
  /** A pino logger, or false for none. Default: JSON lines on stdout at level info. */
  logger?: Logger | false;
  /** Where sessions live; default in memory (the CLI defaults to SQLite under ./.relive/). */
  store?: SessionStore;
  /** Secret that signs resumption handles; default one kept in the store, made on first start. */
  secret?: string;
  /** Connection and session lifetimes, goAway notice, handle validity; PROTOCOL.md's defaults. */
  lifetimes?: Partial<Lifetimes>;
  /**
   * At listen(), count sessions a dead process left attached as detached now (default true). Turn it
   * off when several servers share one SQLite file: they would release each other's live sessions.
   * A cluster (below) never does this: it releases only the sessions of nodes that died.
   */
  releaseOrphans?: boolean;
  /** This node's id in a cluster (letters, digits, . _ -); default a random 10-hex-digit one. */
  nodeId?: string;
  /**
   * Several nodes on one Redis (issue #9): presence, takeover across nodes, dead nodes' sessions
   * released. Default: on when `store` is a RedisStore (on its server), off otherwise. false turns
   * it off; an object tunes it (and names the Redis when the store is not a RedisStore).
   */
  cluster?: false | ClusterSettings;
  /** Counts text tokens; default o200k (gpt-tokenizer). */
  tokenizer?: TextTokenizer;
  /** Tokens per second of audio; default 25 (PROTOCOL.md §5.6). */
  audioTokensPerSecond?: number;
  /** Tokens added to every prompt; default 0. */
  preambleTokens?: number;
  /** Context window of every model, overriding the model table (128k native audio, 32k others). */
  contextWindowTokens?: number;
  /**
   * Voice activity detection for automatic turn taking; default Silero v5 on onnxruntime-node,
   * loaded at listen(). false: none (audio turns end only at audioStreamEnd or activityEnd).
   */
  vad?: VoiceActivityDetector | false;
  /** Speech-to-text for inputTranscription; default Debian's pocketsphinx when installed. false: none. */
  speechRecognizer?: SpeechRecognizer | false;
  /** How long a spoken turn waits after end of speech for its transcript; default 1500 ms. */
  transcriptWaitMs?: number;
  /** Close at the connection lifetime: 'aborted' (1008, default) or 'deadline' (1011), both seen from Google. */
  lifetimeClose?: 'aborted' | 'deadline';
  /**
   * Record every connection's wire traffic as NDJSON in this directory (created if missing): one
   * file per session, docs/recording.md. A directory that cannot be written is logged, not fatal.
   */
  recordDir?: string;
}

export interface ClusterSettings {
  /** The Redis the nodes meet on; default the RedisStore's. */
  redisUrl?: string;
  /** A node silent this long counts as dead; default 5000 ms. */
  presenceTtlMs?: number;
  /** Presence renewal period; default 1000 ms. */
  heartbeatMs?: number;
  /** Dead-node sweep period; default the presence TTL. */
  sweepMs?: number;
  /** How long a takeover waits for the other node to let go; default 3000 ms. */
  takeoverTimeoutMs?: number;
}

export const DEFAULTS = {
  host: '127.0.0.1',
  port: 8765,
  maxFrameBytes: 15 * 1024 * 1024,
  setupTimeoutMs: 30_000,
  keepaliveIntervalMs: 30_000,
  audioChunkMs: 100,
  outboundHighWaterMark: 1024 * 1024,
} as const;

/** The plain settings of a server (no adapters), every default filled in. */
export interface ServerSettings {
  readonly host: string;
  readonly port: number;
  readonly apiKeys: readonly string[];
  readonly adminToken: string | undefined;
  readonly strict: boolean;
  readonly maxFrameBytes: number;
  readonly setupTimeoutMs: number;
  readonly keepaliveIntervalMs: number;
  readonly unknownModels: UnknownModelPolicy;
  readonly extraModels: readonly string[];
  /** The built-in model profiles behind the user's own. */
  readonly models: ModelCatalog;
  readonly sessionIdInSetupComplete: boolean;
  readonly audioChunkMs: number;
  readonly outboundHighWaterMark: number;
  /** Undefined: the one kept in the store (made by the first node to start). */
  readonly secret: string | undefined;
  readonly lifetimes: Lifetimes;
  readonly lifetimeClose: 'aborted' | 'deadline';
  readonly releaseOrphans: boolean;
  readonly nodeId: string;
  readonly tokenRates: TokenRates;
  readonly preambleTokens: number;
  /** Undefined: each model's window from the model table. */
  readonly contextWindowTokens: number | undefined;
  readonly transcriptWaitMs: number;
}

/** ServerOptions with the defaults applied; an option given as undefined counts as not given. */
export function resolveSettings(options: ServerOptions): ServerSettings {
  return {
    host: options.host ?? DEFAULTS.host,
    port: options.port ?? DEFAULTS.port,
    apiKeys: options.apiKeys ?? [],
    adminToken: options.adminToken,
    strict: options.strict ?? false,
    maxFrameBytes: options.maxFrameBytes ?? DEFAULTS.maxFrameBytes,
    setupTimeoutMs: options.setupTimeoutMs ?? DEFAULTS.setupTimeoutMs,
    keepaliveIntervalMs: options.keepaliveIntervalMs ?? DEFAULTS.keepaliveIntervalMs,
    unknownModels: options.unknownModels ?? 'accept',
    extraModels: options.extraModels ?? [],
    models: modelCatalog(options.modelProfiles ?? []),
    sessionIdInSetupComplete: options.sessionIdInSetupComplete ?? true,
    audioChunkMs: options.audioChunkMs ?? DEFAULTS.audioChunkMs,
    outboundHighWaterMark: options.outboundHighWaterMark ?? DEFAULTS.outboundHighWaterMark,
    secret: options.secret,
    lifetimes: { ...DEFAULT_LIFETIMES, ...options.lifetimes },
    lifetimeClose: options.lifetimeClose ?? 'aborted',
    releaseOrphans: options.releaseOrphans !== false,
    nodeId: checkNodeId(options.nodeId ?? newNodeId()),
    tokenRates: { ...DEFAULT_TOKEN_RATES, audioTokensPerSecond: options.audioTokensPerSecond ?? DEFAULT_TOKEN_RATES.audioTokensPerSecond },
    preambleTokens: options.preambleTokens ?? 0,
    contextWindowTokens: options.contextWindowTokens,
    transcriptWaitMs: options.transcriptWaitMs ?? 1500,
  };
}
