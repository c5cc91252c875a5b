/**
 * One relive session's connection to the upstream Gemini Live service, through relive/client:
 * the upstream's goAway rotation, reconnects, replay of unconsumed input and the re-seeding of a
 * lost upstream session all happen in the resilient session, out of the client's sight. This
 * file keeps what the gateway needs on top: which of relive's turns the upstream has, the
 * mapping of relive's function call ids to the upstream's, and the upstream's messages as a queue.
 */
import type { LiveServerMessage } from '@google/genai';
import { connectResilient } from '../../client/connect-resilient.js';
import type { LifecycleEvent } from '../../client/events.js';
import type { ResilientSession } from '../../client/resilient-session.js';
import type { HandleStore } from '../../client/handle-store.js';
import type { SessionConfig } from '../../session/config.js';
import type { ContextTurn } from '../../session/context.js';

export interface UpstreamOptions {
  readonly baseUrl: string;
  readonly apiKey: string | undefined;
  readonly apiVersion: string;
  /** The upstream model; default the one the client asked for. */
  readonly model: string | undefined;
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
  /** The upstream is inside a turn that relive stopped listening to (a barge-in): its end is skipped. */
  draining = false;
  readonly state: UpstreamState = { connections: 0, rotations: 0, reconnects: 0, lastRestore: undefined, closed: undefined };
  private readonly items: Item[] = [];
  private wake: (() => void) | undefined;

  private constructor(readonly session: ResilientSession) {}

  static async open(config: SessionConfig, options: UpstreamOptions, handleStore?: HandleStore): Promise<UpstreamLink> {
    let link: UpstreamLink | undefined;
    const early: Item[] = [];
    const earlyEvents: LifecycleEvent[] = [];
    const push = (item: Item): void => (link ? link.push(item) : void early.push(item));
    const session = await connectResilient({
      model: options.model ?? config.model,
      // The gateway relays text and tool calls; relive's own speech pipeline speaks and listens.
      config: {
        responseModalities: ['TEXT' as never],
        ...(config.systemInstruction ? { systemInstruction: config.systemInstruction as never } : {}),
        ...(config.tools.length > 0 ? { tools: config.tools as never } : {}),
      },
      apiKey: options.apiKey,
      baseUrl: options.baseUrl,
      apiVersion: options.apiVersion,
      ...(handleStore ? { handleStore } : {}),
      callbacks: {
        onmessage: (message) => push({ kind: 'message', message }),
        onevent: (event) => (link ? link.observe(event) : void earlyEvents.push(event)),
        onclose: (e) => push({ kind: 'closed', code: e.code, reason: e.reason }),
      },
    });
    link = new UpstreamLink(session);
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
        return;
      case 'stateLost':
        this.state.lastRestore = 'lost';
        return;
      default:
        return;
    }
  }
}
