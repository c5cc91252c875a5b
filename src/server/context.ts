/** What every connection of one server shares: resolved options and the adapters. */
import type { Logger } from 'pino';
import type { ClusterNode } from '../cluster/cluster-node.js';
import type { CloseSpec } from '../protocol/close-codes.js';
import type { HandleCodec } from '../session/handles.js';
import type { Lifetimes } from '../session/lifetimes.js';
import type { SessionStore } from '../session/store.js';
import type { LiveSessionDeps } from '../session/live-session.js';
import type { Connection } from './connection.js';
import type { FaultInjector } from './faults.js';
import type { Metrics } from './metrics.js';
import type { Clock } from '../session/clock.js';
import type { Engine } from '../session/engine.js';
import type { UnknownModelPolicy } from '../session/models.js';
import type { SpeechSynthesizer } from '../session/speech.js';
import type { SessionRegistry } from './registry.js';
import type { WireRecorder } from './wire-tap.js';
import type { SpeechRecognizer, VoiceActivityDetector } from '../session/voice.js';

export interface ServerContext {
  readonly clock: Clock;
  readonly engine: Engine;
  readonly speech: SpeechSynthesizer | undefined;
  readonly log: Logger;
  readonly registry: SessionRegistry;
  readonly apiKeys: ReadonlySet<string>;
  readonly strict: boolean;
  readonly maxFrameBytes: number;
  readonly setupTimeoutMs: number;
  readonly keepaliveIntervalMs: number;
  readonly unknownModels: UnknownModelPolicy;
  readonly extraModels: readonly string[];
  readonly sessionIdInSetupComplete: boolean;
  readonly audioChunkMs: number;
  readonly outboundHighWaterMark: number;
  /** Unknown fields already logged, so each is logged once per process. */
  readonly unknownFieldsLogged: Set<string>;
  readonly store: SessionStore;
  /** This node's id: the `holder` of the sessions its connections lease. */
  readonly nodeId: string;
  /** The other nodes on a shared Redis store, once listen() joined them; undefined on a single node. */
  readonly cluster: ClusterNode | undefined;
  /** The server is draining (SIGTERM): new connections are refused, /healthz says so. */
  readonly draining: boolean;
  readonly handles: HandleCodec;
  readonly lifetimes: Lifetimes;
  /** The close at the connection lifetime (1008 aborted; a profile may choose 1011). */
  readonly lifetimeClose: CloseSpec;
  /** The close at the session lifetime. */
  readonly sessionCapClose: CloseSpec;
  /** Open connections, for drain and shutdown. */
  readonly connections: Set<Connection>;
  /** Store writes still running for closed connections; shutdown waits for them. */
  readonly pendingWrites: Set<Promise<void>>;
  /** Token accounting settings shared by every session. */
  readonly tokens: Pick<LiveSessionDeps, 'tokenizer' | 'tokenRates' | 'preambleTokens' | 'contextWindowTokens'>;
  readonly metrics: Metrics;
  readonly faults: FaultInjector;
  /** The ears of every session: loaded at listen() (the detector's model), absent when turned off. */
  readonly voice: { vad: VoiceActivityDetector | undefined; recognizer: SpeechRecognizer | undefined; readonly transcriptWaitMs: number };
  /** Records every connection's wire traffic (--record DIR); absent: nothing recorded. */
  readonly recorder?: WireRecorder;
}
