/**
 * One WebSocket from accept to close: waits for `setup` (nothing is sent before it), queues what
 * arrives while setup is processed, feeds messages to the session in order, keeps the socket
 * alive, and closes with the code and reason PROTOCOL.md §7.2 gives for every kind of bad input.
 */
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import type { ClientMessage, Setup } from '../protocol/client-schema.js';
import { CloseReasons, payloadTooLargeClose, truncateCloseReason, type CloseSpec } from '../protocol/close-codes.js';
import type { Credential, LiveEndpoint } from '../protocol/endpoint.js';
import { parseClientFrame } from '../protocol/parse.js';
import { msg } from '../protocol/server-messages.js';
import type { Timer } from '../session/clock.js';
import { resolveConfig } from '../session/config.js';
import { newSessionId } from '../session/ids.js';
import { LiveSession } from '../session/live-session.js';
import type { ServerContext } from './context.js';
import { Outbound } from './outbound.js';
import { answerStatuslessCloseWith1000, closeWithReasonOnProtocolError } from './ws-hooks.js';

type State = 'awaitingSetup' | 'settingUp' | 'active' | 'closed';

let connectionSeq = 0;

export class Connection {
  readonly id = `c${++connectionSeq}`;
  readonly openedAt: number;
  readonly remoteAddress: string | undefined;
  private state: State = 'awaitingSetup';
  private session: LiveSession | undefined;
  private readonly queue: ClientMessage[] = [];
  private readonly outbound: Outbound;
  private readonly timers = new Set<Timer>();
  private setupTimer: Timer | undefined;
  private keepalive: NodeJS.Timeout | undefined;
  private missedPongs = 0;
  /** Client messages received after setup, for transparent resumption's index (PROTOCOL.md §5.4). */
  messagesAfterSetup = 0;

  constructor(
    private readonly ws: WebSocket,
    request: IncomingMessage,
    readonly endpoint: LiveEndpoint,
    private readonly credential: Credential | undefined,
    private readonly ctx: ServerContext,
  ) {
    this.openedAt = ctx.clock.now();
    this.remoteAddress = request.socket.remoteAddress;
    this.outbound = new Outbound(ws, ctx.outboundHighWaterMark);
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
    if (ctx.keepaliveIntervalMs > 0) {
      this.keepalive = setInterval(() => this.ping(), ctx.keepaliveIntervalMs);
      this.keepalive.unref();
    }
    this.log().info({ path: request.url?.split('?')[0], apiVersion: endpoint.apiVersion, credential: credential?.source }, 'connection opened');
  }

  get sessionId(): string | undefined {
    return this.session?.id;
  }

  /** Warns the client and closes at the deadline, as the real service does at its connection cap. */
  goAway(timeLeftMs: number, close: CloseSpec = CloseReasons.aborted): void {
    if (this.state === 'closed') return;
    this.outbound.send(msg.goAway(timeLeftMs));
    this.log().info({ timeLeftMs }, 'goAway sent');
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

  private onFrame(data: Buffer, isBinary: boolean): void {
    if (this.state === 'closed') return;
    const parsed = parseClientFrame(data, isBinary, { strict: this.ctx.strict });
    if (parsed.ok === false) {
      this.close(parsed.close, parsed.detail);
      return;
    }
    if (parsed.ok === 'foreign') {
      // Mastra's {"type": …} messages: fail fast as an opener, ignore afterwards (PROTOCOL.md §9).
      if (this.state === 'awaitingSetup' || this.ctx.strict) this.close(CloseReasons.invalidArgument, `non-protocol message type ${parsed.type}`);
      else this.log().warn({ type: parsed.type }, 'non-protocol message ignored');
      return;
    }
    this.logUnknownFields(parsed.unknownFields);
    const message = parsed.message;
    if (this.state === 'awaitingSetup') {
      if (message.kind !== 'setup') {
        this.close(CloseReasons.invalidArgument, `first message is ${message.kind}, not setup`);
        return;
      }
      this.setup(message.setup);
      return;
    }
    if (message.kind === 'setup') {
      this.close(CloseReasons.invalidArgument, 'second setup');
      return;
    }
    this.messagesAfterSetup++;
    if (this.state === 'settingUp') this.queue.push(message);
    else this.deliver(message);
  }

  private setup(setup: Setup): void {
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
    const session = new LiveSession(newSessionId(), resolved.config, {
      engine: this.ctx.engine,
      speech: this.ctx.speech,
      audioChunkMs: this.ctx.audioChunkMs,
      clock: this.ctx.clock,
      strict: this.ctx.strict,
      log: this.ctx.log,
    });
    session.attach({
      send: (m) => this.outbound.send(m),
      ready: () => this.outbound.ready(),
      close: (spec, detail) => this.close(spec, detail),
    });
    this.session = session;
    this.ctx.registry.add(session, this);
    this.outbound.send(msg.setupComplete(this.ctx.sessionIdInSetupComplete ? session.id : undefined));
    this.log().info({ model: resolved.config.model, modality: resolved.config.modality }, 'session started');
    this.state = 'active';
    // Pipecat sends clientContent right behind setup: those messages run now, in order.
    for (const queued of this.queue.splice(0)) {
      if (this.state !== 'active') break;
      this.deliver(queued);
    }
  }

  private deliver(message: ClientMessage): void {
    try {
      this.session?.handle(message);
    } catch (err) {
      this.log().error({ err: err instanceof Error ? err.message : String(err), kind: message.kind }, 'message handling failed');
      this.close(CloseReasons.internal, 'internal error');
    }
  }

  private onClose(code: number, reason: string): void {
    const wasOpen = this.state !== 'closed';
    this.shutdown();
    this.log().info({ code, reason, initiatedByClient: wasOpen }, 'connection closed');
  }

  /** Stops everything this connection runs; the session ends with it until resumption exists. */
  private shutdown(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    for (const t of this.timers) t.cancel();
    this.timers.clear();
    if (this.keepalive) clearInterval(this.keepalive);
    if (this.session) {
      this.session.end();
      this.ctx.registry.markEnded(this.session.id, this.ctx.clock.now());
    }
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
    return this.ctx.log.child({ conn: this.id, session: this.session?.id });
  }
}
