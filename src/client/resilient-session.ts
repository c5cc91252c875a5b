/**
 * A Live session that outlives its connections. The app sends and receives as with the SDK's
 * Session; underneath, connections come and go:
 *
 * - goAway: a new socket is opened at once (TCP and upgrade, no setup yet), and at the next
 *   interaction boundary (protocol/interaction-boundary.ts: the interaction ended IDLE, no tool call
 *   owed, its handle came) the old connection is closed and the new one resumes with that boundary
 *   handle, never with one the server sent mid-answer. Setup
 *   waits for the old socket to close because the real service refuses a resume while the old
 *   connection is open (PROTOCOL.md §5.3); everything else is ready before that moment.
 * - an unexpected close: reconnect with backoff, down a ladder — resume with the handle, else a
 *   fresh session seeded from the transcript, else a fresh session — each step reported.
 * - either way, client messages the server had not consumed are sent again (replay buffer).
 */
import { LiveServerMessage, type LiveConnectConfig, type LiveSendClientContentParameters, type LiveSendRealtimeInputParameters, type LiveSendToolResponseParameters } from '@google/genai';
import { parseDuration } from '../protocol/duration.js';
import { contextLost, tokensHeld } from '../protocol/context-loss.js';
import { InteractionBoundary } from '../protocol/interaction-boundary.js';
import { Backoff } from './backoff.js';
import { clockDelay, every, realClock, type ClientClock, type ClientTimer } from './clock.js';
import { clientContentMessage, realtimeInputMessage, toolResponseMessage, audioSeconds } from './client-messages.js';
import { classifyClose, type CloseClass } from './close-classes.js';
import { ClosedBeforeSetupError } from './close-error.js';
import { Conversation } from './conversation.js';
import type { LifecycleEvent } from './events.js';
import type { HandleStore, StoredSession } from './handle-store.js';
import { ReplayBuffer } from './replay-buffer.js';
import { setupFromConfig } from './setup-from-config.js';
import { openSocket, type LiveSocket } from './socket.js';

export interface ResilientCallbacks {
  onopen?: () => void;
  onmessage: (message: LiveServerMessage) => void;
  onerror?: (error: Error) => void;
  /** Once, when the session is over for good (never for a connection the library replaces). */
  onclose?: (event: { code: number; reason: string; class: CloseClass }) => void;
  /** Lifecycle: connected, rotating, reconnecting, stateRestored, stateLost, closed. */
  onevent?: (event: LifecycleEvent) => void;
}

export interface ResilientSettings {
  readonly url: string;
  readonly model: string;
  readonly config: LiveConnectConfig | undefined;
  readonly callbacks: ResilientCallbacks;
  readonly transparent: boolean;
  readonly handleStore: HandleStore | undefined;
  readonly stored: StoredSession | undefined;
  readonly maxReplayAudioSeconds: number;
  readonly reconnect: {
    readonly maxAttempts: number;
    /** Retries before the first setupComplete (start() rejects after them); default maxAttempts. */
    readonly firstMaxAttempts?: number;
    readonly initialDelayMs: number;
    readonly maxDelayMs: number;
  };
  readonly keepalive: { readonly intervalMs: number; readonly timeoutMs: number };
  readonly WebSocket?: Parameters<typeof openSocket>[2];
  readonly random: () => number;
  /** Every timer the session runs; default real time. */
  readonly clock?: ClientClock;
  /** After each resume by handle, check the next turn's promptTokenCount for a lost context (protocol/context-loss.ts). */
  readonly contextCheck?: boolean;
  /**
   * The model takes clientContent only as a new session's initial history (3.1): a seed is
   * announced with historyConfig in the setup, and a resumed session gets no history.
   */
  readonly initialHistoryOnly?: boolean;
}

type Mode = 'resume' | 'seed' | 'fresh';

/** One connection: its socket, whether setup completed, and the client message index on it. */
interface Link {
  readonly id: number;
  readonly socket: LiveSocket;
  readonly mode: Mode;
  ready: boolean;
  /** Client messages sent after setup (the server's index of the last one). */
  sent: number;
  /** `sent` when the last turnComplete arrived: without indices, what a new handle covers. */
  sentAtTurnComplete: number;
  /** Replaced by a newer connection: its messages and its close no longer matter. */
  retired: boolean;
  /** Resumed by handle and the context check is on: the next turnComplete's prompt is compared. */
  checkContext: boolean;
  readonly closed: Promise<void>;
  markClosed(): void;
}

interface Rotation {
  readonly from: Link;
  readonly presocket: Promise<{ socket: LiveSocket; link: LinkSlot } | undefined>;
  readonly timer: ClientTimer;
  switching: boolean;
}

/** Messages for a socket opened before its Link exists (the pre-opened socket of a rotation). */
interface LinkSlot {
  link: Link | undefined;
  early: { kind: 'message'; json: Record<string, unknown> }[];
  closedEarly: { code: number; reason: string } | undefined;
}

/** Seconds kept of the rotation deadline when the boundary never comes: switch before the server closes. */
const FORCE_MARGIN_MS = 2000;

export class ResilientSession {
  private linkSeq = 0;
  private current: Link | undefined;
  /** The handle to resume with: the newest boundary handle (or the stored one at the start). */
  private handle: string | undefined;
  /**
   * Where the session may be rotated. Its `handleOwed`: the interaction ended and its handle (the
   * resumption update that follows turnComplete) has not come yet. A rotation waits for it:
   * resuming with the handle before it would make the server answer that turn again, and input
   * the app sent after seeing its end would cut the new answer.
   */
  private readonly boundary = new InteractionBoundary();
  /** What the session held at its last turnComplete (prompt + response tokens), for the context check. */
  private heldTokens = 0;
  /**
   * Transcript marks (Conversation.mark): at the last settled interaction, and at the one the
   * handle covers. The turns between them were answered and the app saw the answers, but a resume
   * by the handle rewinds the server to before them.
   */
  private settledMark = 0;
  private handleMark = 0;
  private readonly buffer: ReplayBuffer;
  private readonly conversation = new Conversation();
  private readonly backoff: Backoff;
  private rotation: Rotation | undefined;
  private attempts = 0;
  private closing = false;
  private finished = false;
  private keepaliveTimer: ClientTimer | undefined;
  private reconnectTimer: ClientTimer | undefined;
  private readonly clock: ClientClock;
  /** When the session last lost its ready connection (clock.now()), until the next is ready. */
  private gapStart: number | undefined;
  /** A stored handle of this model was loaded: the first connection restores (or loses) a session. */
  private readonly startedFromStore: boolean;
  private firstReady: { resolve: () => void; reject: (e: Error) => void } | undefined;
  /** Counts for the app and for tests. */
  readonly stats = { connections: 0, rotations: 0, reconnects: 0, replayed: 0, seeded: 0, restoredTurns: 0, fresh: 0, contextReseeds: 0 };

  constructor(private readonly settings: ResilientSettings) {
    this.clock = settings.clock ?? realClock;
    this.buffer = new ReplayBuffer(settings.maxReplayAudioSeconds);
    this.backoff = new Backoff({ initialMs: settings.reconnect.initialDelayMs, maxMs: settings.reconnect.maxDelayMs, random: settings.random });
    this.startedFromStore = settings.stored !== undefined && settings.stored.model === settings.model;
    if (settings.stored && this.startedFromStore) {
      this.handle = settings.stored.handle;
      this.conversation.transcript.push(...(settings.stored.transcript ?? []));
    }
  }

  /** The newest handle the session can be resumed with. */
  get sessionHandle(): string | undefined {
    return this.handle;
  }

  /** Client messages kept for replay, and what the audio bound has dropped so far. */
  get pending(): { messages: number; dropped: { messages: number; audioSeconds: number } } {
    return { messages: this.buffer.size, dropped: { ...this.buffer.droppedTotal } };
  }

  /** Opens the first connection; resolves at its setupComplete, as the SDK's connect() does. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.firstReady = { resolve, reject };
      void this.connect(this.handle ? 'resume' : 'fresh');
    });
  }

  sendClientContent(params: LiveSendClientContentParameters): void {
    this.send(clientContentMessage(params));
  }

  sendRealtimeInput(params: LiveSendRealtimeInputParameters): void {
    this.send(realtimeInputMessage(params));
  }

  sendToolResponse(params: LiveSendToolResponseParameters): void {
    this.send(toolResponseMessage(params));
  }

  /** Ends the session on the app's request; the stored handle stays, for a later resume. */
  close(): void {
    if (this.finished) return;
    this.closing = true;
    const link = this.current;
    this.stopRotation();
    if (link?.socket.open) link.socket.close(1000);
    else this.finish(1000, '', { kind: 'normal', label: 'normal' });
  }

  /** Forgets the stored handle: the next connectResilient with this store starts a new session. */
  async forget(): Promise<void> {
    await this.settings.handleStore?.clear();
  }

  private send(wire: Record<string, unknown>): void {
    if (this.finished || this.closing) return;
    this.conversation.sent(wire);
    this.boundary.onClient(wire);
    const entry = this.buffer.add(wire, audioSeconds(wire));
    const link = this.current;
    if (link?.ready && !this.rotation?.switching) this.transmit(link, entry);
    if (this.rotation) this.checkBoundary();
  }

  private transmit(link: Link, entry: { wire: Record<string, unknown>; connection?: number; index?: number }): void {
    link.sent++;
    entry.connection = link.id;
    entry.index = link.sent;
    link.socket.send(entry.wire);
  }

  // --- connections ---------------------------------------------------------------------------

  private async connect(mode: Mode): Promise<void> {
    const slot: LinkSlot = { link: undefined, early: [], closedEarly: undefined };
    let socket: LiveSocket;
    try {
      socket = await this.open(slot);
    } catch (err) {
      this.failedToOpen(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    this.attach(socket, slot, mode);
  }

  private open(slot: LinkSlot): Promise<LiveSocket> {
    return openSocket(
      this.settings.url,
      {
        message: (json) => (slot.link ? this.onMessage(slot.link, json) : slot.early.push({ kind: 'message', json })),
        close: (code, reason) => {
          if (slot.link) this.onClose(slot.link, code, reason);
          else slot.closedEarly = { code, reason };
        },
      },
      this.settings.WebSocket,
      this.clock,
    );
  }

  /** Sends setup on an open socket; the session continues on it once setupComplete arrives. */
  private attach(socket: LiveSocket, slot: LinkSlot, mode: Mode): void {
    let markClosed: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => (markClosed = resolve));
    const link: Link = { id: ++this.linkSeq, socket, mode, ready: false, sent: 0, sentAtTurnComplete: 0, retired: false, checkContext: false, closed, markClosed };
    slot.link = link;
    this.current = link;
    this.stats.connections++;
    if (link.id === 1) this.settings.callbacks.onopen?.();
    if (slot.closedEarly) {
      this.onClose(link, slot.closedEarly.code, slot.closedEarly.reason);
      return;
    }
    const handle = mode === 'resume' ? this.handle : undefined;
    const setup = setupFromConfig(this.settings.model, this.settings.config, { handle, transparent: this.settings.transparent });
    // A model that takes history only when asked for it at setup (3.1) gets the seed that way.
    if (mode === 'seed' && this.settings.initialHistoryOnly && setup.historyConfig === undefined) setup.historyConfig = { initialHistoryInClientContent: true };
    socket.send({ setup });
    for (const e of slot.early.splice(0)) this.onMessage(link, e.json);
  }

  private onMessage(link: Link, json: Record<string, unknown>): void {
    // A connection being replaced speaks no more: its late output will be produced again on the new one.
    if (link.retired || link !== this.current || this.finished) return;
    if (!link.ready) {
      if (json.setupComplete !== undefined) this.onReady(link, json);
      return;
    }
    if (json.goAway !== undefined) {
      this.startRotation(link, parseDurationMs((json.goAway as { timeLeft?: string }).timeLeft));
      return;
    }
    // A handle sent mid-interaction (Agent Platform marks every update resumable) is not kept:
    // resuming with it would restart the answer half-way, and the replay buffer stays at the last boundary.
    const effect = this.boundary.onServer(json);
    const update = json.sessionResumptionUpdate as { lastConsumedClientMessageIndex?: string | number } | undefined;
    if (effect.boundaryHandle) this.onHandle(link, effect.boundaryHandle, update?.lastConsumedClientMessageIndex);
    this.conversation.received(json);
    if (effect.settled) {
      link.sentAtTurnComplete = link.sent;
      this.settledMark = this.conversation.mark;
      this.buffer.coverSentOn(link.id);
    }
    const turnEnded = (json.serverContent as { turnComplete?: boolean } | undefined)?.turnComplete === true;
    this.deliver(json);
    if (turnEnded) this.checkContext(link, json.usageMetadata as Parameters<typeof tokensHeld>[0]);
    if (this.rotation) this.checkBoundary();
  }

  private onReady(link: Link, setupComplete: Record<string, unknown>): void {
    link.ready = true;
    this.boundary.reset(link.mode === 'resume' ? this.handle : undefined);
    link.checkContext = this.settings.contextCheck === true && link.mode === 'resume' && this.heldTokens > 0;
    this.attempts = 0;
    this.backoff.reset();
    this.startKeepalive(link);
    const first = this.firstReady;
    this.firstReady = undefined;
    let restoredTurns = 0;
    if (link.mode === 'seed') {
      this.buffer.dropCovered();
      restoredTurns = this.seed(link);
    }
    if (link.mode === 'resume') restoredTurns = this.restoreAnswered(link);
    const dropped = this.buffer.takeDropped();
    const toReplay = this.buffer.toSendOn(link.id);
    for (const entry of toReplay) this.transmit(link, entry);
    this.stats.replayed += toReplay.length;
    const gapMs = this.gapStart === undefined ? undefined : this.clock.now() - this.gapStart;
    this.gapStart = undefined;
    this.emit({ type: 'connected', connection: link.id, resumed: link.mode === 'resume', ...(gapMs === undefined ? {} : { gapMs }) });
    // The app sees one setupComplete, as with the SDK; later ones are the library's business.
    if (first) this.deliver(setupComplete);
    // There is state to keep from the second connection on, or from the start when a stored handle was loaded.
    if (!first || this.startedFromStore) {
      if (link.mode === 'fresh') this.emit({ type: 'stateLost', connection: link.id, reason: 'no handle resumed and no transcript to seed from' });
      else this.emit({ type: 'stateRestored', via: link.mode === 'resume' ? 'handle' : 'transcript', connection: link.id, replayed: toReplay.length, restoredTurns, dropped });
    }
    first?.resolve();
  }

  /** A fresh session (or one that lost its context) gets the conversation so far, without a reply to it. Returns the turns sent. */
  private seed(link: Link): number {
    const turns = this.conversation.transcript.map((t) => ({ role: t.role, parts: [{ text: t.text }] }));
    if (turns.length === 0) return 0;
    link.sent++;
    link.socket.send({ clientContent: { turns, turnComplete: false } });
    this.stats.seeded++;
    return turns.length;
  }

  /**
   * Turns answered after the handle was made (the connection was lost between a turnComplete and
   * its handle) go back as history, input and the answer the app saw, with no reply asked. Sent
   * again as requests they would be answered a second time, and the app's next turn, sent when it
   * saw the first answer, would cut that answer off. What the transcript lacks (audio without a
   * transcription, tool calls) is not restored, as with a transcript seed.
   */
  private restoreAnswered(link: Link): number {
    // A resumed session of such a model takes no history: the answered turns are replayed as they were.
    if (this.settings.initialHistoryOnly) return 0;
    const turns = this.conversation.between(this.handleMark, this.settledMark);
    if (turns.length === 0) return 0;
    this.buffer.dropCovered();
    link.sent++;
    link.socket.send({ clientContent: { turns: turns.map((t) => ({ role: t.role, parts: [{ text: t.text }] })), turnComplete: false } });
    this.stats.restoredTurns += turns.length;
    return turns.length;
  }

  /**
   * The first turn after a resume by handle: a prompt far below what the session held before
   * means the server resumed it without its history; the transcript is given to it again (as a
   * seed, without a reply), and the app hears of it. The turn itself was answered without it.
   */
  private checkContext(link: Link, usage: Parameters<typeof tokensHeld>[0]): void {
    const held = tokensHeld(usage);
    if (held === undefined) return;
    const before = this.heldTokens;
    this.heldTokens = held;
    if (!link.checkContext) return;
    link.checkContext = false;
    const prompt = usage?.promptTokenCount ?? 0;
    if (!contextLost(prompt, before)) return;
    // A model that takes history only at a session's start cannot be given it again now.
    const turns = this.settings.initialHistoryOnly ? 0 : this.seed(link);
    if (turns > 0) this.stats.contextReseeds++;
    this.emit({ type: 'contextLost', connection: link.id, promptTokens: prompt, heldTokens: before, reseededTurns: turns });
  }

  private onHandle(link: Link, handle: string, index: string | number | undefined): void {
    this.handle = handle;
    this.handleMark = this.settledMark;
    if (this.settings.transparent && index !== undefined) this.buffer.consumedThrough(link.id, Number(index));
    else this.buffer.consumedThrough(link.id, link.sentAtTurnComplete);
    const store = this.settings.handleStore;
    if (store) {
      const saved: StoredSession = { handle, model: this.settings.model, savedAt: Date.now(), transcript: this.conversation.transcript.slice(-50) };
      store.save(saved).catch((err: unknown) => this.settings.callbacks.onerror?.(err instanceof Error ? err : new Error(String(err))));
    }
  }

  private onClose(link: Link, code: number, reason: string): void {
    link.markClosed();
    if (link.retired || this.finished) return;
    if (link === this.current) this.current = undefined;
    if (link.ready) this.gapStart ??= this.clock.now();
    this.stopKeepalive();
    // The connection a rotation was leaving ended first (its deadline): reconnect as after any close.
    this.stopRotation();
    const cls = classifyClose(code, reason, { resuming: !link.ready && link.mode === 'resume', closedByClient: this.closing });
    if (this.closing) {
      this.finish(code, reason, { kind: 'normal', label: 'normal' });
      return;
    }
    switch (cls.kind) {
      case 'normal':
      case 'retry':
        this.retry(code, reason, cls, this.nextMode(link, false));
        return;
      case 'sessionLost':
        this.retry(code, reason, cls, this.nextMode(link, true));
        return;
      case 'takenOver':
      case 'fatal':
        this.finish(code, reason, cls);
        return;
    }
  }

  /** The ladder: handle → transcript → fresh. A lost session steps down; anything else tries the same step again. */
  private nextMode(link: Link, lost: boolean): Mode {
    if (!lost) return this.handle ? 'resume' : link.mode === 'seed' ? 'seed' : 'fresh';
    this.handle = undefined;
    if (link.mode === 'resume' && this.conversation.transcript.length > 0) return 'seed';
    return 'fresh';
  }

  private retry(code: number, reason: string, cls: CloseClass, mode: Mode): void {
    // Before the first setupComplete, a caller may want to hear at once that the service cannot be reached.
    const max = this.firstReady ? (this.settings.reconnect.firstMaxAttempts ?? this.settings.reconnect.maxAttempts) : this.settings.reconnect.maxAttempts;
    if (this.attempts >= max) {
      this.finish(code, reason, { kind: 'fatal', label: 'gaveUp' });
      return;
    }
    this.attempts++;
    this.stats.reconnects++;
    if (mode === 'fresh' && this.stats.connections > 0) this.stats.fresh++;
    // Quota errors wait longer: an immediate retry only meets the same limit.
    const delayMs = this.backoff.next() * (cls.label === 'quota' ? 4 : 1);
    this.emit({ type: 'reconnecting', attempt: this.attempts, delayMs, code, reason, class: cls });
    this.reconnectTimer = this.clock.setTimer(delayMs, () => {
      this.reconnectTimer = undefined;
      if (!this.finished && !this.closing) void this.connect(mode);
    });
  }

  private failedToOpen(err: Error): void {
    if (this.finished) return;
    const status = (err.cause as { status?: number } | undefined)?.status;
    // HTTP 4xx other than 429 at the upgrade will not get better by retrying (a bad key, a bad path).
    if (status !== undefined && status !== 429 && status < 500) {
      this.finish(1006, err.message, { kind: 'fatal', label: `http${status}` });
      return;
    }
    this.retry(1006, err.message, { kind: 'retry', label: status === 429 ? 'quota' : 'dropped' }, this.handle ? 'resume' : 'fresh');
  }

  // --- goAway rotation -----------------------------------------------------------------------

  private startRotation(link: Link, timeLeftMs: number): void {
    if (this.rotation) return;
    const slot: LinkSlot = { link: undefined, early: [], closedEarly: undefined };
    const presocket = this.open(slot)
      .then((socket) => ({ socket, link: slot }))
      .catch(() => undefined);
    const timer = this.clock.setTimer(Math.max(0, timeLeftMs - FORCE_MARGIN_MS), () => this.forceSwitch());
    this.rotation = { from: link, presocket, timer, switching: false };
    this.emit({ type: 'rotating', connection: link.id, timeLeftMs });
    this.checkBoundary();
  }

  private checkBoundary(): void {
    const rotation = this.rotation;
    if (!rotation || rotation.switching || !this.handle) return;
    if (this.conversation.idle && this.boundary.atBoundary) void this.switchOver(rotation);
  }

  /**
   * The deadline is near and no boundary came: switch anyway (with the last boundary handle; what
   * came after it is replayed), unless a tool call is owed (its handle would lose it) or the
   * interaction has ended and its handle is on the way (it follows turnComplete
   * once the server's commit is done): resuming with the handle before it would rewind the server to
   * before that turn and have it answered twice. The handle's arrival is a boundary (checkBoundary).
   */
  private forceSwitch(): void {
    const rotation = this.rotation;
    if (!rotation || rotation.switching || !this.handle || this.boundary.pendingCalls.size > 0 || this.boundary.handleOwed) return;
    void this.switchOver(rotation);
  }

  private async switchOver(rotation: Rotation): Promise<void> {
    rotation.switching = true;
    rotation.timer.cancel();
    const old = rotation.from;
    old.retired = true;
    this.current = undefined;
    this.gapStart = this.clock.now();
    this.stopKeepalive();
    old.socket.close(1000);
    // The real service rejects a resume while the old connection is open; a dead peer gets 2 s.
    const deadPeer = new AbortController();
    await Promise.race([old.closed, clockDelay(this.clock, 2000, deadPeer.signal)]);
    deadPeer.abort();
    if (!old.socket.open) old.markClosed();
    const pre = await rotation.presocket;
    if (this.rotation !== rotation || this.finished) {
      pre?.socket.close(1000);
      return;
    }
    this.rotation = undefined;
    this.stats.rotations++;
    if (!pre || !pre.socket.open || pre.link.closedEarly) {
      pre?.socket.close(1000);
      void this.connect('resume');
      return;
    }
    this.attach(pre.socket, pre.link, 'resume');
  }

  private stopRotation(): void {
    const rotation = this.rotation;
    if (!rotation || rotation.switching) return;
    this.rotation = undefined;
    rotation.timer.cancel();
    void rotation.presocket.then((pre) => pre?.socket.close(1000));
  }

  // --- keepalive, delivery, end ---------------------------------------------------------------

  /** A dead TCP connection sends no close: a ping that goes unanswered ends it, and the reconnect follows. */
  private startKeepalive(link: Link): void {
    this.stopKeepalive();
    const { intervalMs, timeoutMs } = this.settings.keepalive;
    if (intervalMs <= 0 || !link.socket.ping) return;
    this.keepaliveTimer = every(this.clock, intervalMs, () => {
      void link.socket.ping?.(timeoutMs).then((alive) => {
        if (!alive && this.current === link) link.socket.terminate();
      });
    });
  }

  private stopKeepalive(): void {
    this.keepaliveTimer?.cancel();
    this.keepaliveTimer = undefined;
  }

  private deliver(json: Record<string, unknown>): void {
    try {
      this.settings.callbacks.onmessage(Object.assign(new LiveServerMessage(), json));
    } catch (err) {
      // The app's callback failing must not take the session's bookkeeping down with it.
      this.settings.callbacks.onerror?.(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private emit(event: LifecycleEvent): void {
    try {
      this.settings.callbacks.onevent?.(event);
    } catch (err) {
      this.settings.callbacks.onerror?.(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private finish(code: number, reason: string, cls: CloseClass): void {
    if (this.finished) return;
    this.finished = true;
    this.stopKeepalive();
    this.stopRotation();
    this.reconnectTimer?.cancel();
    const first = this.firstReady;
    this.firstReady = undefined;
    if (first) first.reject(new ClosedBeforeSetupError(code, reason, `Live connection closed before setup completed (code ${code}): ${reason}`));
    this.emit({ type: 'closed', code, reason, class: cls });
    this.settings.callbacks.onclose?.({ code, reason, class: cls });
  }
}

/** goAway's timeLeft; 0 when absent or garbled, so the switch happens at once. */
function parseDurationMs(text: string | undefined): number {
  return (text === undefined ? undefined : parseDuration(text)) ?? 0;
}
