/**
 * One relive session's connection to the upstream Gemini Live service, through relive-gemini/client:
 * the upstream's goAway rotation, reconnects, replay of unconsumed input and the re-seeding of a
 * lost upstream session all happen in the resilient session, out of the client's sight. This
 * file keeps what the gateway needs on top: which of relive's turns the upstream has, the
 * mapping of relive's function call ids to the upstream's, and the upstream's messages as a queue.
 */
import type { LiveConnectConfig, LiveServerMessage } from '@google/genai';
import type { LifecycleEvent } from '../../client/events.js';
import type { ResilientSession, ResilientSettings } from '../../client/resilient-session.js';
import type { HandleStore } from '../../client/handle-store.js';
import type { SessionConfig } from '../../session/config.js';
import type { ContextTurn } from '../../session/context.js';
import { AudioRelay } from './audio-relay.js';

export interface UpstreamOptions {
  readonly baseUrl: string;
  readonly apiKey: string | undefined;
  readonly apiVersion: string;
  /** The upstream model; default the one the client asked for. */
  readonly model: string | undefined;
  /** The WebSocket class of upstream connections (relive/client's `WebSocket`); default the `ws` package's. */
  readonly WebSocket?: ResilientSettings['WebSocket'];
}

/** What the control API shows of a session's upstream. */
export interface UpstreamState {
  connections: number;
  rotations: number;
  reconnects: number;
  /** How the upstream state survived its last break: through its handle, re-seeded from relive's transcript, or lost. */
  lastRestore: 'handle' | 'transcript' | 'lost' | undefined;
  closed: { code: number; reason: string } | undefined;
}

type Item = { kind: 'message'; message: LiveServerMessage } | { kind: 'closed'; code: number; reason: string };

export class UpstreamLink {
  /** The last history turn the upstream holds (compression may drop turns from the front, so by identity). */
  synced: ContextTurn | undefined;
  /** Upstream call ids in the order their calls were handed to the session, waiting to be matched to relive's ids. */
  readonly unmatchedCallIds: string[] = [];
  /** relive's function call id → the upstream's. */
  readonly callIds = new Map<string, string>();
  /** The upstream session began with the conversation already in it (resumed from a stored handle). */
  hasContext = false;
  /** The upstream's own count of the conversation at its last turnComplete (prompt + response tokens); 0 before any. */
  countedTokens = 0;
  /** The upstream connection was resumed by handle since the last turnComplete: the next one's prompt is checked (protocol/context-loss.ts). */
  checkContext = false;
  /** The upstream is inside a turn that relive stopped listening to (a barge-in): its end is skipped. */
  draining = false;
  /** Where the upstream's transcription of the user's speech goes, at once: it is not part of any generation. */
  onInputTranscript: ((text: string) => void) | undefined;
  readonly state: UpstreamState = { connections: 0, rotations: 0, reconnects: 0, lastRestore: undefined, closed: undefined };
  private readonly items: Item[] = [];
  private wake: (() => void) | undefined;

  private constructor(
    readonly session: ResilientSession,
    /** The user's audio and video, relayed as they arrive. */
    readonly relay: AudioRelay,
  ) {}

  static async open(config: SessionConfig, options: UpstreamOptions, handleStore?: HandleStore): Promise<UpstreamLink> {
    let link: UpstreamLink | undefined;
    const early: Item[] = [];
    const earlyEvents: LifecycleEvent[] = [];
    const push = (item: Item): void => (link ? link.push(item) : void early.push(item));
    // Loaded here, not imported at the top: the client needs the official SDK (an optional peer),
    // which nothing but the gateway's upstream link needs, so relive-gemini loads without it.
    const { connectResilient } = await import('../../client/connect-resilient.js');
    const session = await connectResilient({
      model: options.model ?? config.model,
      config: upstreamConfig(config),
      apiKey: options.apiKey,
      baseUrl: options.baseUrl,
      apiVersion: options.apiVersion,
      ...(options.WebSocket ? { WebSocket: options.WebSocket } : {}),
      ...(handleStore ? { handleStore } : {}),
      // One quick retry for the first connection, then the session fails: a client must not wait
      // 30 s of backoff to learn that the upstream cannot be reached. Later breaks retry as usual.
      reconnect: { firstMaxAttempts: 1 },
      callbacks: {
        onmessage: (message) => push({ kind: 'message', message }),
        onevent: (event) => (link ? link.observe(event) : void earlyEvents.push(event)),
        onclose: (e) => push({ kind: 'closed', code: e.code, reason: e.reason }),
      },
    });
    link = new UpstreamLink(session, new AudioRelay((params) => session.sendRealtimeInput(params)));
    link.state.connections = 1;
    for (const event of earlyEvents) link.observe(event);
    // A stored upstream handle (a relive restarted on its store) resumed, or the stored transcript
    // seeded: the upstream already holds the conversation.
    link.hasContext = link.state.lastRestore === 'handle' || link.state.lastRestore === 'transcript';
    for (const item of early) link.push(item);
    return link;
  }

  /** The next upstream message, or the upstream's final close; undefined when `signal` aborts first. */
  async next(signal: AbortSignal): Promise<Item | undefined> {
    for (;;) {
      // An aborted generation takes nothing more: what is queued belongs to the next one.
      if (signal.aborted) return undefined;
      const item = this.items.shift();
      if (item) return item;
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          signal.removeEventListener('abort', wake);
          if (this.wake === wake) this.wake = undefined;
          resolve();
        };
        signal.addEventListener('abort', wake, { once: true });
        this.wake = wake;
      });
    }
  }

  close(): void {
    this.session.close();
  }

  private push(item: Item): void {
    if (item.kind === 'closed') this.state.closed = { code: item.code, reason: item.reason };
    else {
      const sc = item.message.serverContent;
      const heard = sc?.inputTranscription;
      if (sc && heard) {
        if (heard.text) this.onInputTranscript?.(heard.text);
        // A message that carried only the transcription is done with.
        if (Object.keys(sc).length === 1 && !item.message.usageMetadata) return;
      }
    }
    this.items.push(item);
    this.wake?.();
  }

  private observe(event: LifecycleEvent): void {
    switch (event.type) {
      case 'connected':
        this.state.connections = this.session.stats.connections;
        this.state.rotations = this.session.stats.rotations;
        this.state.reconnects = this.session.stats.reconnects;
        return;
      case 'stateRestored':
        this.state.lastRestore = event.via;
        if (event.via === 'handle') this.checkContext = true;
        return;
      case 'stateLost':
        this.state.lastRestore = 'lost';
        return;
      default:
        return;
    }
  }
}

/**
 * The upstream session's settings: the client's, with the turn boundaries left to relive (which
 * tells the upstream with activityStart/activityEnd) and transcription always on, because
 * relive's history (and the re-seeding of a lost upstream session) needs the words of what was
 * said both ways. Whether the client gets those transcriptions is still the client's setting.
 * The model's own fields (proactivity, historyConfig, generationConfig.thinkingConfig) pass unchanged.
 */
function upstreamConfig(config: SessionConfig): LiveConnectConfig {
  const setup = config.setup;
  const handling = setup.realtimeInputConfig?.activityHandling;
  // A model that takes history only before its first turn, and only with historyConfig (3.1): the
  // gateway seeds a new upstream session (a lost one, or after relive restarted) that way, so it asks for it.
  const historyConfig = setup.historyConfig ?? (config.profile.clientContent === 'initialHistory' ? { initialHistoryInClientContent: true } : undefined);
  return {
    generationConfig: { ...(setup.generationConfig as object), responseModalities: [config.modality] } as never,
    ...(config.systemInstruction ? { systemInstruction: config.systemInstruction as never } : {}),
    ...(config.tools.length > 0 ? { tools: config.tools as never } : {}),
    inputAudioTranscription: {},
    ...(config.modality === 'AUDIO' ? { outputAudioTranscription: {} } : {}),
    realtimeInputConfig: { automaticActivityDetection: { disabled: true }, ...(handling ? { activityHandling: handling as never } : {}) },
    // The model's own fields, as the client sent them: relive does not interpret them, the upstream model does
    // (thinkingConfig goes inside generationConfig above).
    ...(setup.proactivity ? { proactivity: setup.proactivity as never } : {}),
    ...((historyConfig ? { historyConfig } : {}) as object),
  };
}
