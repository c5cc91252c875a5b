/**
 * One WebSocket from accept to close: waits for `setup` (nothing is sent before it), queues what
 * arrives while setup is processed, feeds messages to the session in order, keeps the socket
 * alive, and closes with the code and reason PROTOCOL.md §7.2 gives for every kind of bad input.
 */
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { WebSocket } from 'ws';
import type { ClientMessage, RealtimeInput, Setup } from '../protocol/client-schema.js';
import { CloseReasons, payloadTooLargeClose, truncateCloseReason, type CloseSpec } from '../protocol/close-codes.js';
import type { Credential, LiveEndpoint } from '../protocol/endpoint.js';
import { parseClientFrame, type ParseResult } from '../protocol/parse.js';
import { parseDuration } from '../protocol/duration.js';
import { closeOf } from './faults.js';
import { msg } from '../protocol/server-messages.js';
import type { Timer } from '../session/clock.js';
import { resolveConfig } from '../session/config.js';
import { principalOf } from '../session/handles.js';
import { deadlineFor, sessionTimeLeft } from '../session/lifetimes.js';
import type { LiveSession } from '../session/live-session.js';
import { FencedError } from '../session/store.js';
import type { ServerContext } from './context.js';
import { Outbound } from './outbound.js';
import type { AttachedConnection } from './registry.js';
import { createSession, resumeSession, type OpenedSession, type OpenResult } from './session-opening.js';
import { answerStatuslessCloseWith1000, closeWithReasonOnProtocolError } from './ws-hooks.js';
import type { ConnectionTap } from './wire-tap.js';
import { VoiceInput } from './voice-input.js';
import { ClientTrafficLog, ModelTurnLog } from './traffic-log.js';

type State = 'awaitingSetup' | 'settingUp' | 'active' | 'closed';

/** A client frame after setup, with its index in this connection (setup is 0). */
interface Frame {
  readonly index: number;
  readonly parsed: ParseResult;
  readonly bytes: number;
}

let connectionSeq = 0;

/** Pauses between the attempts to detach a session while the store is unreachable: about 5 minutes in all. */
const DETACH_RETRY_DELAYS_MS = [1_000, 2_000, 4_000, 8_000, 15_000, 30_000, 60_000, 60_000, 60_000, 60_000];

export class Connection implements AttachedConnection {
  readonly id = `c${++connectionSeq}`;
  readonly openedAt: number;
  readonly remoteAddress: string | undefined;
  private state: State = 'awaitingSetup';
  private opened: OpenedSession | undefined;
  /** Frames that arrive while setup is processed. */
  private readonly queue: Frame[] = [];
  private readonly principal: string;
  private attachedAt = 0;
  private videoSeen = false;
  private capTimers: Timer[] = [];
  /** Index of the last client message fully applied to the session. */
  private appliedIndex = 0;
  private delivering = false;
  private resumptionDue = false;
  /** The store write that ends this connection's hold on the session. */
  private finalWrite: Promise<void> = Promise.resolve();
  private releaseClosed: () => void = () => undefined;
  /** Resolves when the connection is closed and its session handed back. */
  readonly closed: Promise<void>;
  private readonly outbound: Outbound;
  private readonly timers = new Set<Timer>();
  private setupTimer: Timer | undefined;
  private keepalive: NodeJS.Timeout | undefined;
  private missedPongs = 0;
  private readonly tap: ConnectionTap | undefined;
  private voice: VoiceInput | undefined;
  /** When the frame being handled arrived (queued frames keep their own), for the ingest-lag metric. */
  private frameArrivedAt = 0;
  /** A cut turn a fault asked for before the session existed. */
  private cutOnOpen: number | undefined;
  /** Client messages received after setup, for transparent resumption's index (PROTOCOL.md §5.4). */
  messagesAfterSetup = 0;
  private readonly clientTraffic = new ClientTrafficLog(() => this.log());
  private readonly modelTurns = new ModelTurnLog(() => this.log());

  constructor(
    private readonly ws: WebSocket,
    request: IncomingMessage,
    readonly endpoint: LiveEndpoint,
    private readonly credential: Credential | undefined,
    private readonly ctx: ServerContext,
  ) {
    this.openedAt = ctx.clock.now();
    this.remoteAddress = request.socket.remoteAddress;
    this.principal = principalOf(credential?.value);
    this.closed = new Promise((resolve) => (this.releaseClosed = resolve));
    ctx.connections.add(this);
    const path = request.url?.split('?')[0] ?? '/';
    this.tap = ctx.recorder?.open({ conn: this.id, path, apiVersion: endpoint.apiVersion });
    const tap = this.tap;
    this.outbound = new Outbound(ws, ctx.outboundHighWaterMark, ctx.clock, tap && ((m) => tap.serverMessage(m)), ctx.faults.random);
    answerStatuslessCloseWith1000(ws);
    closeWithReasonOnProtocolError(ws, (err) =>
      err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'
        ? payloadTooLargeClose(ctx.maxFrameBytes)
        : err.code === 'WS_ERR_INVALID_UTF8'
          ? CloseReasons.invalidArgument
          : undefined,
    );
    ws.on('message', (data, isBinary) => this.onFrame(data as Buffer, isBinary));
    ws.on('close', (code, reason) => this.onClose(code, reason.toString()));
    // Errors are followed by 'close'; without a listener ws would throw them.
    ws.on('error', (err) => this.log().debug({ err: err.message }, 'socket error'));
    ws.on('pong', () => {
      this.missedPongs = 0;
    });
    this.setupTimer = this.timer(ctx.setupTimeoutMs, () => {
      if (this.state === 'awaitingSetup') this.close(CloseReasons.deadlineExpired, 'no setup within the timeout');
    });
    // The connection cap: goAway at lifetime − notice, closed at the lifetime (PROTOCOL.md §5.2).
    const lifetime = deadlineFor(ctx.lifetimes.connectionMs, ctx.lifetimes.goAwayNoticeMs);
    this.timer(lifetime.goAwayInMs, () => {
      if (this.state === 'active') this.goAway(lifetime.closeInMs - lifetime.goAwayInMs);
      else this.close(this.ctx.lifetimeClose, 'connection lifetime reached before setup');
    });
    if (ctx.keepaliveIntervalMs > 0) {
      this.keepalive = setInterval(() => this.ping(), ctx.keepaliveIntervalMs);
      this.keepalive.unref();
    }
    this.log().info({ remote: this.remoteAddress, path, apiVersion: endpoint.apiVersion, credential: credential?.source }, 'connection opened');
  }

  get sessionId(): string | undefined {
    return this.opened?.session.id;
  }

  get session(): LiveSession | undefined {
    return this.opened?.session;
  }

  /** Warns the client and closes at the deadline, as the real service does at its connection cap. */
  goAway(timeLeftMs: number, close: CloseSpec = this.ctx.lifetimeClose): void {
    if (this.state === 'closed') return;
    // Nothing may precede setupComplete; a connection still setting up just gets the deadline.
    if (this.state === 'active') {
      this.outbound.send(msg.goAway(timeLeftMs));
      this.log().info({ timeLeftMs }, 'goAway sent');
    }
    this.timer(timeLeftMs, () => this.close(close, 'goAway deadline reached'));
  }

  close(spec: CloseSpec, detail: string): void {
    if (this.state === 'closed') return;
    this.log().info({ code: spec.code, reason: spec.reason, detail }, 'closing connection');
    this.shutdown();
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) {
      this.ws.close(spec.code, truncateCloseReason(spec.reason));
    }
  }

  /** Takeover: another connection resumes this session. Resolves once this one's last write is done. */
  yieldSession(): Promise<void> {
    return this.closeAndSettle(CloseReasons.takenOver, 'session resumed on another connection');
  }

  /** Closes, and resolves once the session is handed back to the store (nothing of it is written after). */
  closeAndSettle(spec: CloseSpec, detail: string): Promise<void> {
    this.close(spec, detail);
    return this.finalWrite;
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    if (this.state === 'closed') return;
    this.tap?.clientFrame(data, isBinary);
    this.frameArrivedAt = performance.now();
    const parsed = parseClientFrame(data, isBinary, { strict: this.ctx.strict });
    if (this.state === 'awaitingSetup') {
      if (parsed.ok === false) this.close(parsed.close, parsed.detail);
      // Mastra's {"type": …} opener: fail fast instead of letting it time out (PROTOCOL.md §9).
      else if (parsed.ok === 'foreign') this.close(CloseReasons.invalidArgument, `non-protocol message type ${parsed.type}`);
      else if (parsed.message.kind !== 'setup') this.close(CloseReasons.invalidArgument, `first message is ${parsed.message.kind}, not setup`);
      else if (!this.injectFault('setup', parsed.message.setup.model)) {
        this.logSetup(parsed.message.setup, data.length);
        this.logUnknownFields(parsed.unknownFields);
        void this.setup(parsed.message.setup);
      }
      return;
    }
    // Every client message after setup has an index, those that change nothing included (PROTOCOL.md §5.4).
    const frame: Frame = { index: ++this.messagesAfterSetup, parsed, bytes: data.length };
    // Frames that arrive while setup is processed wait, so that everything after setup runs in order.
    if (this.state === 'settingUp') this.queue.push(frame);
    else this.apply(frame);
  }

  private apply({ index, parsed, bytes }: Frame): void {
    if (parsed.ok === false) {
      this.close(parsed.close, parsed.detail);
      return;
    }
    if (parsed.ok === 'foreign') {
      if (this.ctx.strict) {
        this.close(CloseReasons.invalidArgument, `non-protocol message type ${parsed.type}`);
        return;
      }
      this.log().warn({ type: parsed.type }, 'non-protocol message ignored');
      this.appliedIndex = index;
      return;
    }
    this.logUnknownFields(parsed.unknownFields);
    if (parsed.message.kind === 'setup') {
      this.close(CloseReasons.invalidArgument, 'second setup');
      return;
    }
    this.clientTraffic.message(index, parsed.message, bytes);
    if (this.injectFault(parsed.message.kind, this.opened?.session.config.model)) return;
    this.deliver(index, parsed.message);
  }

  /** Applies an injected fault for this message, if a rule strikes. True when the message is not to be processed. */
  private injectFault(messageType: string, model: string | undefined): boolean {
    if (this.ctx.faults.empty) return false;
    const session = this.opened?.session;
    const fault = this.ctx.faults.strike('message', {
      session: session?.id,
      principal: this.principal,
      messageType,
      turn: session ? session.turnsCompleted + 1 : 1,
      model: model?.startsWith('models/') ? model : model && `models/${model}`,
    });
    if (!fault) return false;
    this.log().warn({ fault, messageType }, 'injected fault');
    switch (fault.type) {
      case 'goAway':
        this.goAway(parseDuration(fault.timeLeft) ?? 50_000);
        return false;
      case 'close':
        this.close(closeOf(fault), 'injected fault');
        return true;
      case 'drop':
        this.shutdown();
        this.ws.terminate();
        return true;
      case 'delay':
        this.outbound.delayMessages({ ms: fault.ms, jitterMs: fault.jitterMs, untilTurnComplete: fault.scope === 'turn' });
        return false;
      case 'prematureTurnComplete':
      case 'emptyTurnComplete': {
        const afterChunks = fault.type === 'emptyTurnComplete' ? 0 : fault.afterChunks;
        // Struck by the setup itself: the session it opens gets the cut.
        if (session) session.cutNextTurn(afterChunks);
        else this.cutOnOpen = afterChunks;
        return false;
      }
      default:
        return false;
    }
  }

  private async setup(setup: Setup): Promise<void> {
    this.state = 'settingUp';
    this.setupTimer?.cancel();
    this.setupTimer = undefined;
    if (this.ctx.apiKeys.size > 0 && (!this.credential || !this.ctx.apiKeys.has(this.credential.value))) {
      this.close(CloseReasons.invalidApiKey, 'key not in the allow-list');
      return;
    }
    const resolved = resolveConfig(setup, {
      unknownModels: this.ctx.strict ? 'reject' : this.ctx.unknownModels,
      extraModels: this.ctx.extraModels,
      apiVersion: this.endpoint.apiVersion,
    });
    if (!resolved.ok) {
      this.close(resolved.close, resolved.detail);
      return;
    }
    const config = resolved.config;
    const deps = {
      engine: this.ctx.engine,
      speech: this.ctx.speech,
      audioChunkMs: this.ctx.audioChunkMs,
      clock: this.ctx.clock,
      strict: this.ctx.strict,
      log: this.ctx.log,
      ...this.ctx.tokens,
      onCompression: () => this.ctx.metrics.compressions.inc(),
    };
    const handle = config.setup.sessionResumption?.handle;
    let result: OpenResult;
    try {
      result = handle
        ? await resumeSession(this.ctx, handle, config, this.principal, deps, (id) => {
            const holder = this.ctx.registry.get(id)?.connection;
            return holder && holder !== this ? holder : undefined;
          })
        : await createSession(this.ctx, config, this.principal, deps);
    } catch (err) {
      this.log().error({ err: err instanceof Error ? err.message : String(err) }, 'opening the session failed');
      this.close(CloseReasons.internal, 'store failure while opening the session');
      return;
    }
    if (!result.ok) {
      this.close(result.close, result.detail);
      return;
    }
    const opened = result.opened;
    if (this.isClosed()) {
      // The client left while the store was working: give the lease back at once.
      this.opened = opened;
      this.attachedAt = this.ctx.clock.now();
      this.state = 'active';
      this.shutdown();
      return;
    }
    this.opened = opened;
    this.attachedAt = this.ctx.clock.now();
    this.videoSeen = opened.videoSeen;
    const session = opened.session;
    if (this.cutOnOpen !== undefined) session.cutNextTurn(this.cutOnOpen);
    session.attach({
      send: (m) => {
        this.modelTurns.sent(m);
        this.outbound.send(m);
      },
      ready: () => this.outbound.ready(),
      close: (spec, detail) => this.close(spec, detail),
      turnCompleted: () => this.onTurnCompleted(),
      videoReceived: () => this.onVideo(),
    });
    this.voice = new VoiceInput(session, {
      ...this.ctx.voice,
      transcribeForEngine: this.ctx.engine.needsTranscripts === true,
      engineTranscribes: this.ctx.engine.hear !== undefined,
      log: this.ctx.log,
      observeLag: (s) => this.ctx.metrics.ingestLag.observe(s),
    });
    this.ctx.registry.attach(session, this);
    this.tap?.session(session.id, opened.resumed);
    this.outbound.send(msg.setupComplete(this.ctx.sessionIdInSetupComplete ? session.id : undefined));
    this.log().info({ model: config.model, modality: config.modality, resumed: opened.resumed, seq: opened.seq }, opened.resumed ? 'session resumed' : 'session started');
    // The handle of the checkpoint the session starts from; nothing of this connection is consumed yet.
    if (config.resumption) {
      this.outbound.send(msg.resumptionUpdate(this.ctx.handles.issue({ sessionId: session.id, seq: opened.seq }, this.principal)));
      this.log().debug({ seq: opened.seq }, 'resumption handle issued');
    }
    this.scheduleSessionCap();
    this.state = 'active';
    // Pipecat sends clientContent right behind setup: those messages run now, in order.
    for (const frame of this.queue.splice(0)) {
      if (this.state !== 'active') break;
      this.apply(frame);
    }
  }

  private deliver(index: number, message: ClientMessage): void {
    this.delivering = true;
    try {
      this.opened?.session.handle(message);
      // Realtime audio goes on to the voice detector and recognizer once the session has counted it.
      if (message.kind === 'realtimeInput') this.voice?.hear(message.realtimeInput, this.frameArrivedAt);
    } catch (err) {
      this.log().error({ err: err instanceof Error ? err.message : String(err), kind: message.kind }, 'message handling failed');
      this.close(CloseReasons.internal, 'internal error');
    } finally {
      this.delivering = false;
    }
    this.appliedIndex = index;
    if (this.resumptionDue) {
      this.resumptionDue = false;
      void this.resumptionUpdate();
    }
  }

  /**
   * A turn ended. If it ended inside the handling of a message (a barge-in), the update waits until
   * that message has been applied in full, so the checkpoint and its index agree.
   */
  private onTurnCompleted(): void {
    this.ctx.metrics.turns.inc();
    if (this.delivering) this.resumptionDue = true;
    else void this.resumptionUpdate();
  }

  /** Commits a checkpoint and sends its handle, or says the session is not resumable now. */
  private async resumptionUpdate(): Promise<void> {
    const opened = this.opened;
    if (!opened || this.state !== 'active') return;
    const session = opened.session;
    const resumption = session.config.resumption;
    if (!resumption) return;
    if (!session.resumable) {
      this.outbound.send(msg.resumptionUpdate());
      this.log().debug({ status: session.status }, 'resumption update: not resumable now');
      return;
    }
    const index = this.appliedIndex;
    try {
      const seq = await opened.checkpointer.commit(session.snapshot(), index, this.ctx.clock.now());
      if (this.state !== 'active') return;
      const handle = this.ctx.handles.issue({ sessionId: session.id, seq }, this.principal);
      this.outbound.send(msg.resumptionUpdate(handle, resumption.transparent ? index : undefined));
      this.log().debug({ seq, lastConsumedClientMessageIndex: index }, 'resumption handle issued');
    } catch (err) {
      if (this.state !== 'active') return;
      if (err instanceof FencedError) this.close(CloseReasons.takenOver, 'lease lost: the session was resumed elsewhere');
      else {
        this.log().error({ err: err instanceof Error ? err.message : String(err) }, 'checkpoint commit failed');
        this.close(CloseReasons.internal, 'checkpoint commit failed');
      }
    }
  }

  /** The session lifetime without compression: 15 min of connected time, 2 min once video was seen. */
  private scheduleSessionCap(): void {
    const opened = this.opened;
    if (!opened) return;
    for (const t of this.capTimers) t.cancel();
    this.capTimers = [];
    const connectedMs = opened.connectedMsBefore + (this.ctx.clock.now() - this.attachedAt);
    const left = sessionTimeLeft(this.ctx.lifetimes, opened.session.config.compression !== undefined, this.videoSeen, connectedMs);
    if (left === undefined) return;
    const { goAwayInMs, closeInMs } = deadlineFor(left, this.ctx.lifetimes.goAwayNoticeMs);
    this.capTimers.push(
      this.timer(goAwayInMs, () => {
        if (this.state === 'closed') return;
        this.outbound.send(msg.goAway(closeInMs - goAwayInMs));
        this.log().info({ timeLeftMs: closeInMs - goAwayInMs }, 'goAway sent: session lifetime ends');
      }),
      this.timer(closeInMs, () => void this.endSession()),
    );
  }

  private onVideo(): void {
    if (this.videoSeen) return;
    this.videoSeen = true;
    this.scheduleSessionCap();
  }

  /** The session lifetime is over: the session ends for good and its handles stop working. */
  private async endSession(): Promise<void> {
    const opened = this.opened;
    if (!opened || this.state === 'closed') return;
    this.close(this.ctx.sessionCapClose, 'session lifetime reached');
    try {
      await this.finalWrite;
      await this.ctx.store.end(opened.session.id, opened.checkpointer.leaseToken, this.ctx.clock.now());
    } catch (err) {
      if (!(err instanceof FencedError)) this.log().error({ err: err instanceof Error ? err.message : String(err) }, 'ending the session failed');
    }
  }

  private onClose(code: number, reason: string): void {
    const wasOpen = this.state !== 'closed';
    this.shutdown();
    this.tap?.closed(code, reason, wasOpen ? 'client' : 'server');
    this.log().info({ code, reason, initiatedByClient: wasOpen }, 'connection closed');
  }

  /** Stops everything this connection runs and gives the session back to the store. */
  private shutdown(): void {
    if (this.state === 'closed') return;
    const wasSettingUp = this.state === 'settingUp';
    this.clientTraffic.flush();
    this.state = 'closed';
    for (const t of this.timers) t.cancel();
    this.timers.clear();
    if (this.keepalive) clearInterval(this.keepalive);
    this.ctx.connections.delete(this);
    this.releaseClosed();
    const opened = this.opened;
    if (!opened || wasSettingUp) return;
    const now = this.ctx.clock.now();
    // The state at the close, when it is a resumable one: what the control API shows of the session
    // afterwards. Clients resume from the handles they were sent, never from this one.
    if (opened.session.resumable) void opened.checkpointer.commit(opened.session.snapshot(), this.appliedIndex, now).catch(() => undefined);
    opened.session.end();
    this.voice?.close();
    this.ctx.registry.detach(opened.session, this);
    const connectedMs = now - this.attachedAt;
    this.finalWrite = opened.checkpointer.settled().then(() => this.detach(opened, now, connectedMs, 0));
    this.ctx.pendingWrites.add(this.finalWrite);
    void this.finalWrite.then(() => this.ctx.pendingWrites.delete(this.finalWrite));
  }

  /**
   * Hands the session back to the store. A detach that fails for want of a store (a Redis outage)
   * is tried again in the background for a few minutes: a session left marked as attached would
   * never have its handles expire. The retry is harmless whatever happened to the first attempt:
   * the store counts the same detach once, and a resume in between took a new lease, which fences it.
   */
  private async detach(opened: OpenedSession, at: number, connectedMs: number, attempt: number): Promise<void> {
    try {
      await this.ctx.store.detach(opened.session.id, opened.checkpointer.leaseToken, at, connectedMs, this.videoSeen);
      if (attempt > 0) this.log().info({ attempt }, 'session detached after the store came back');
    } catch (err) {
      // Fenced: the session was taken over, and the new holder's accounting stands.
      if (err instanceof FencedError) return;
      const message = err instanceof Error ? err.message : String(err);
      this.log().error({ err: message, attempt }, 'detaching the session failed');
      // Gone (a Redis restarted without persistence) or shut down: nothing left to detach.
      if (/does not exist|store is closed/.test(message) || attempt >= DETACH_RETRY_DELAYS_MS.length) return;
      // Real time, not the server clock: this waits for Redis, and a manual clock may never move.
      setTimeout(() => void this.detach(opened, at, connectedMs, attempt + 1), DETACH_RETRY_DELAYS_MS[attempt]).unref();
    }
  }

  /** Read through a method: TypeScript would otherwise keep its narrowing across an await. */
  private isClosed(): boolean {
    return this.state === 'closed';
  }

  private ping(): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.missedPongs >= 2) {
      this.log().info({}, 'keepalive: two pings unanswered, dropping connection');
      this.ws.terminate();
      return;
    }
    this.missedPongs++;
    this.ws.ping();
  }

  private timer(ms: number, fn: () => void): Timer {
    const t = this.ctx.clock.setTimer(ms, () => {
      this.timers.delete(t);
      fn();
    });
    this.timers.add(t);
    return t;
  }

  private logSetup(setup: Setup, bytes: number): void {
    const log = this.log();
    if (!log.isLevelEnabled('debug')) return;
    const resumption = setup.sessionResumption;
    log.debug(
      {
        model: setup.model,
        modalities: setup.generationConfig?.responseModalities,
        resumption: resumption === undefined ? 'not asked' : resumption.handle ? 'resume a handle' : 'asked',
        transparent: resumption?.transparent,
        compression: setup.contextWindowCompression !== undefined,
        tools: setup.tools?.length,
        bytes,
      },
      'setup received',
    );
  }

  private logUnknownFields(fields: readonly { name: string; at: string }[]): void {
    for (const f of fields) {
      const key = `${f.at}.${f.name}`;
      // Bounded: a client inventing new names must not grow this set without limit.
      if (this.ctx.unknownFieldsLogged.has(key) || this.ctx.unknownFieldsLogged.size >= 1000) continue;
      this.ctx.unknownFieldsLogged.add(key);
      this.log().warn({ field: f.name, at: f.at }, 'unknown field accepted and ignored (strict mode refuses it)');
    }
  }

  private log() {
    return this.ctx.log.child({ conn: this.id, session: this.opened?.session.id });
  }
}
