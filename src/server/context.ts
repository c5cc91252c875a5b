/**
 * What every connection of one server shares, in three named parts: resolved options (plain
 * values), adapters (the ports the server talks through) and runtime state (what changes while
 * it serves). ServerContext is their union, one object built by createServer; each piece of the
 * transport is typed with only the part it uses (OpeningContext, SetupContext, …), so what a piece
 * may touch is visible in its signature.
 *
 * The parts are types over one flat object rather than three nested objects: the control API,
 * the reset and createServer read it by these names, and a flat object keeps their code as it is.
 */
import type { Logger } from 'pino';
import type { ClusterNode } from '../cluster/cluster-node.js';
import type { CloseSpec } from '../protocol/close-codes.js';
import type { HandleCodec } from '../session/handles.js';
import type { SessionStore } from '../session/store.js';
import type { LiveSessionDeps } from '../session/live-session.js';
import type { AttachedConnection } from './attached-connection.js';
import type { FaultInjector } from './faults.js';
import type { Metrics } from './metrics.js';
import type { Clock } from '../session/clock.js';
import type { Engine } from '../session/engine.js';
import type { SpeechSynthesizer } from '../session/speech.js';
import type { ServerSettings } from './options.js';
import type { SessionRegistry } from './registry.js';
import type { WireRecorder } from './wire-tap.js';
import type { SpeechRecognizer, VoiceActivityDetector } from '../session/voice.js';

/**
 * Resolved options: fixed for the server's life. Most are the settings as resolveSettings fills
 * them (options.ts); the API keys become a set, and the closes their code and reason.
 */
export interface ServerConfig
  extends Pick<
    ServerSettings,
    | 'strict'
    | 'maxFrameBytes'
    | 'setupTimeoutMs'
    | 'keepaliveIntervalMs'
    | 'unknownModels'
    | 'extraModels'
    | 'models'
    | 'sessionIdInSetupComplete'
    | 'audioChunkMs'
    | 'outboundHighWaterMark'
    /** This node's id: the `holder` of the sessions its connections lease. */
    | 'nodeId'
    | 'lifetimes'
  > {
  readonly apiKeys: ReadonlySet<string>;
  /** The close at the connection lifetime (1008 aborted; a profile may choose 1011). */
  readonly lifetimeClose: CloseSpec;
  /** The close at the session lifetime. */
  readonly sessionCapClose: CloseSpec;
  /** Token accounting settings shared by every session. */
  readonly tokens: Pick<LiveSessionDeps, 'tokenizer' | 'tokenRates' | 'preambleTokens' | 'contextWindowTokens'>;
}

/** The ports the server works through. */
export interface ServerAdapters {
  readonly clock: Clock;
  readonly engine: Engine;
  /** Created on first use: a text-only deployment never starts a synthesis worker. */
  readonly speech: SpeechSynthesizer | undefined;
  readonly log: Logger;
  readonly store: SessionStore;
  /** The handle codec; its secret is loaded at listen(), before any connection is served. */
  readonly handles: HandleCodec;
  readonly metrics: Metrics;
  readonly faults: FaultInjector;
  /** The ears of every session: loaded at listen() (the detector's model), absent when turned off. */
  readonly voice: { vad: VoiceActivityDetector | undefined; recognizer: SpeechRecognizer | undefined; readonly transcriptWaitMs: number };
  /** Records every connection's wire traffic (--record DIR); absent: nothing recorded. */
  readonly recorder?: WireRecorder;
  /** The other nodes on a shared Redis store, once listen() joined them; undefined on a single node. */
  readonly cluster: ClusterNode | undefined;
}

/** What changes while the server serves. */
export interface ServerRuntime {
  /** Sessions attached to a connection of this process. */
  readonly registry: SessionRegistry;
  /** Open connections, for drain and shutdown. */
  readonly connections: Set<AttachedConnection>;
  /** Store writes still running for closed connections; shutdown waits for them. */
  readonly pendingWrites: Set<Promise<void>>;
  /** The server is draining (SIGTERM): new connections are refused, /healthz says so. */
  readonly draining: boolean;
  /** Unknown fields already logged, so each is logged once per process. */
  readonly unknownFieldsLogged: Set<string>;
  /** Models no profile names that were already warned about, so each is told once per process. */
  readonly unknownModelsLogged: Set<string>;
}

export type ServerContext = ServerConfig & ServerAdapters & ServerRuntime;
