/**
 * What an assembled server runs on, every part resolved. A mode's preset (src/modes/) fills these
 * from that mode's options; assembleServer (create-server.ts) wires them to the transport without
 * knowing which implementation any of them is, so the server module imports no adapter.
 */
import type { Logger } from 'pino';
import type { RemoteAction } from '../cluster/messages.js';
import type { Clock } from '../session/clock.js';
import type { Engine } from '../session/engine.js';
import type { SpeechSynthesizer } from '../session/speech.js';
import type { SessionStore } from '../session/store.js';
import type { TextTokenizer } from '../session/tokens.js';
import type { SpeechRecognizer, VoiceActivityDetector } from '../session/voice.js';
import type { ServerContext } from './context.js';
import type { ServerSettings } from './options.js';
import type { VoiceReport } from './voice-report.js';
import type { WireRecorder } from './wire-tap.js';

export interface ServerParts {
  readonly settings: ServerSettings;
  readonly clock: Clock;
  readonly log: Logger;
  /** Closed at server close whoever made it: ServerOptions.engine has always said so. */
  readonly engine: Engine;
  /** Closed at server close whoever made it: the server is the store's last user. */
  readonly store: SessionStore;
  /**
   * Asked for at the first AUDIO reply, not before: a text-only server never starts a synthesis
   * worker. The preset memoizes what it creates.
   */
  readonly speech: () => SpeechSynthesizer | undefined;
  /** Undefined: no speech-to-text (inputTranscription is never sent unless the engine hears). */
  readonly recognizer: SpeechRecognizer | undefined;
  readonly tokenizer: TextTokenizer;
  /**
   * Called once at listen(), before the port opens: loads the voice activity detector's model
   * (so that no session waits for it) and says which voice features this server has.
   */
  readonly loadVoice: () => Promise<LoadedVoice>;
  /** Records every connection's traffic (--record DIR); the server flushes it at close. */
  readonly recorder: WireRecorder | undefined;
  /** Joins the other nodes on a shared store at listen(); undefined: a single node. */
  readonly joinCluster: JoinCluster | undefined;
  /**
   * What the preset created for this server and nobody else holds (a synthesizer, a recognizer):
   * closed at server close, in this order, after the last connection and recording ended. What
   * the caller passed in is not here, and stays the caller's to close.
   */
  readonly owned: readonly OwnedPart[];
}

export interface LoadedVoice {
  readonly vad: VoiceActivityDetector | undefined;
  readonly report: VoiceReport;
}

export interface OwnedPart {
  /** For the reader of a preset and its tests: "flite synthesizer". */
  readonly name: string;
  close(): Promise<void> | void;
}

/** This node's membership of a cluster, as the server's context holds it. */
export type ClusterMember = NonNullable<ServerContext['cluster']>;

/** What the server gives the cluster when it joins: its node, store, clock and sessions. */
export interface ClusterDeps {
  readonly nodeId: string;
  readonly store: SessionStore;
  readonly now: () => number;
  /** Lets this node's connection of the session go (a takeover); false when none here holds it. */
  readonly yieldSession: (sessionId: string) => Promise<boolean>;
  /** Does what another node's control API asked to this node's connection; false when none holds it. */
  readonly actOnSession: (sessionId: string, action: RemoteAction) => boolean;
  readonly liveSessions: () => number;
  readonly log: Logger;
}

export type JoinCluster = (deps: ClusterDeps) => Promise<ClusterMember>;
