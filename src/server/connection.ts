/**
 * One WebSocket from accept to close: waits for `setup` (nothing is sent before it), queues what
 * arrives while setup is processed, feeds messages in order to the session attached to it
 * (session-attachment.ts), keeps the socket alive, and closes with the code and reason
 * PROTOCOL.md §7.2 gives for every kind of bad input.
 */
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { Setup } from '../protocol/client-schema.js';
import { CloseReasons, truncateCloseReason, type CloseSpec } from '../protocol/close-codes.js';
import type { Credential, LiveEndpoint } from '../protocol/endpoint.js';
import { parseClientFrame, type ParseResult } from '../protocol/parse.js';
import { msg } from '../protocol/server-messages.js';
import type { Timer } from '../session/clock.js';
import { principalOf } from '../session/handles.js';
import { deadlineFor } from '../session/lifetimes.js';
import type { AttachedConnection } from './attached-connection.js';
import type { ServerContext } from './context.js';
import { logSetup, logUnknownFields } from './frame-log.js';
import { injectFault, type FaultTarget } from './message-faults.js';
import { Outbound } from './outbound.js';
import { SessionAttachment } from './session-attachment.js';
import { openForSetup, type SetupOutcome } from './setup-step.js';
import { answerStatuslessCloseWith1000, closeWithReasonOnProtocolError } from './ws-hooks.js';
import type { ConnectionTap } from './wire-tap.js';
import { ClientTrafficLog } from './traffic-log.js';

type State = 'awaitingSetup' | 'settingUp' | 'active' | 'closed';

/** A client frame after setup, with its index in this connection (setup is 0). */
interface Frame {
  readonly index: number;
  readonly parsed: ParseResult;
  readonly bytes: number;
}

let connectionSeq = 0;

export class Connection implements AttachedConnection {
  readonly id = `c${++connectionSeq}`;
  readonly openedAt: number;
  readonly remoteAddress: string | undefined;
  private state: State = 'awaitingSetup';
  /** The session this connection holds: set when the setup step opened it (session-attachment.ts). */
  private attachment: SessionAttachment | undefined;
  /** Frames that arrive while setup is processed. */
  private readonly queue: Frame[] = [];
  private readonly principal: string;
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
  /** When the frame being handled arrived (queued frames keep their own), for the ingest-lag metric. */
  private frameArrivedAt = 0;
  /** A cut turn a fault asked for before the session existed. */
  private cutOnOpen: number | undefined;
  /** Client messages received after setup, for transparent resumption's index (PROTOCOL.md §5.4). */
  messagesAfterSetup = 0;
  private logger: Logger | undefined;
  private loggedSession: string | undefined;
  private readonly clientTraffic = new ClientTrafficLog(() => this.log());

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
    closeWithReasonOnProtocolError(ws, ctx.maxFrameBytes);
    ws.on('message', (data, isBinary) => this.onFrame(data as Buffer, isBinary));
    ws.on('close', (code, reason) => this.onClose(code, reason.toString()));
    // Errors are followed by 'close'; without a listener ws would throw them.
    ws.on('error', (err) => this.log().debug({ err: err.message }, 'socket error'));
    ws.on('pong', () => void (this.missedPongs = 0));
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
      else if (this.ctx.faults.empty || !injectFault(this.ctx.faults, this.faultTarget(), 'setup', parsed.message.setup.model)) {
        logSetup(this.log(), parsed.message.setup, data.length);
        if (parsed.unknownFields.length > 0) logUnknownFields(this.ctx.unknownFieldsLogged, () => this.log(), parsed.unknownFields);
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
      this.attachment?.skip(index);
      return;
    }
    if (parsed.unknownFields.length > 0) logUnknownFields(this.ctx.unknownFieldsLogged, () => this.log(), parsed.unknownFields);
    if (parsed.message.kind === 'setup') {
      this.close(CloseReasons.invalidArgument, 'second setup');
      return;
    }
    this.clientTraffic.message(index, parsed.message, bytes);
    // The fault target is built only when a rule may strike: nothing extra per message otherwise.
    if (!this.ctx.faults.empty && injectFault(this.ctx.faults, this.faultTarget(), parsed.message.kind, this.attachment?.session.config.model)) return;
    this.attachment?.handle(index, parsed.message, this.frameArrivedAt);
  }

  /** What a fault rule may do to this connection (message-faults.ts). */
  private faultTarget(): FaultTarget {
    return {
      connection: this,
      principal: this.principal,
      session: this.attachment?.session,
      drop: () => {
        this.shutdown();
        this.ws.terminate();
      },
      delayOutput: (policy) => this.outbound.delayMessages(policy),
      // Struck by the setup itself: the session it opens gets the cut.
      cutNextTurn: (afterChunks) => {
        const session = this.attachment?.session;
        if (session) session.cutNextTurn(afterChunks);
        else this.cutOnOpen = afterChunks;
      },
      log: this.log(),
    };
  }

  private async setup(setup: Setup): Promise<void> {
    this.state = 'settingUp';
    this.setupTimer?.cancel();
    this.setupTimer = undefined;
    const outcome = await openForSetup(this.ctx, {
      setup,
      credential: this.credential,
      principal: this.principal,
      apiVersion: this.endpoint.apiVersion,
      holder: (id) => {
        const holder = this.ctx.registry.get(id)?.connection;
        return holder && holder !== this ? holder : undefined;
      },
      log: this.log(),
    });
    this.settle(outcome);
  }

  /** Applies what the setup step found, in one synchronous step: the connection's state is the current one. */
  private settle(outcome: SetupOutcome): void {
    if (!outcome.ok) {
      this.close(outcome.close, outcome.detail);
      return;
    }
    const ports = { ctx: this.ctx, connection: this, outbound: this.outbound, principal: this.principal, tap: this.tap, log: () => this.log() };
    // Held before it is attached: the connection's log lines name the session from now on.
    this.attachment = new SessionAttachment(ports, outcome.opened);
    // The client left while the store was working: give the lease back at once.
    if (this.state === 'closed') {
      this.finalWrite = this.attachment.release();
      return;
    }
    this.attachment.attach(outcome.config, this.cutOnOpen);
    this.state = 'active';
    // Pipecat sends clientContent right behind setup: those messages run now, in order.
    for (const frame of this.queue.splice(0)) {
      if (this.state !== 'active') break;
      this.apply(frame);
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
    this.attachment?.stop();
    if (this.keepalive) clearInterval(this.keepalive);
    this.ctx.connections.delete(this);
    this.releaseClosed();
    // Still setting up: the setup step gives the lease back when it is done (settle).
    if (this.attachment && !wasSettingUp) this.finalWrite = this.attachment.release();
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

  /** The connection's logger, with its session once there is one: made once for each, not per frame. */
  private log(): Logger {
    const session = this.attachment?.session.id;
    if (!this.logger || this.loggedSession !== session) {
      this.logger = this.ctx.log.child({ conn: this.id, session });
      this.loggedSession = session;
    }
    return this.logger;
  }
}
