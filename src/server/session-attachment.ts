/**
 * A session attached to one connection: its time on that connection, from setupComplete to the
 * store write that hands it back. Created when the setup step opened the session; `attach` wires
 * the session's output to the connection, its resumption, its lifetime and its ears, and says
 * setupComplete; the connection then gives it every client message in order (`handle`, `skip`)
 * and, at the close, `stop` and `release`.
 *
 * It owns no socket: it reaches the connection through the AttachedConnection port and the
 * outbound sender only, so that connection.ts keeps the socket (state, frame order, keepalive,
 * close) and this file the session's side of it.
 */
import type { Logger } from 'pino';
import type { ClientMessage } from '../protocol/client-schema.js';
import { CloseReasons } from '../protocol/close-codes.js';
import { msg } from '../protocol/server-messages.js';
import { errorMessage } from '../errors.js';
import type { SessionConfig } from '../session/config.js';
import type { LiveSession } from '../session/live-session.js';
import { Resumption } from '../session/resumption.js';
import type { AttachedConnection } from './attached-connection.js';
import type { ServerContext } from './context.js';
import { detachWithRetry } from './detach-retry.js';
import type { Outbound } from './outbound.js';
import type { OpenedSession } from './session-opening.js';
import { SessionLifetime } from './session-lifetime.js';
import { ModelTurnLog } from './traffic-log.js';
import { VoiceInput } from './voice-input.js';
import type { ConnectionTap } from './wire-tap.js';

/** What an attachment uses of the server. */
export type AttachmentContext = Pick<
  ServerContext,
  | 'clock'
  | 'lifetimes'
  | 'sessionCapClose'
  | 'store'
  | 'handles'
  | 'metrics'
  | 'voice'
  | 'engine'
  | 'log'
  | 'registry'
  | 'sessionIdInSetupComplete'
  | 'pendingWrites'
>;

export interface AttachmentPorts {
  readonly ctx: AttachmentContext;
  /** The connection the session is attached to: registry entry, closes, the session cap's close. */
  readonly connection: AttachedConnection;
  /** The connection's sending side. */
  readonly outbound: Pick<Outbound, 'send' | 'ready'>;
  /** The connection's principal: the handles issued are bound to it. */
  readonly principal: string;
  readonly tap: ConnectionTap | undefined;
  /** The connection's logger (with this session in it once the connection holds the attachment). */
  log(): Logger;
}

/** What lives only while the session is attached: absent when the client left during setup. */
interface Attached {
  readonly resumption: Resumption;
  readonly lifetime: SessionLifetime;
  readonly voice: VoiceInput;
}

export class SessionAttachment {
  readonly attachedAt: number;
  private attached: Attached | undefined;
  private readonly modelTurns: ModelTurnLog;

  constructor(
    private readonly ports: AttachmentPorts,
    readonly opened: OpenedSession,
  ) {
    this.attachedAt = ports.ctx.clock.now();
    this.modelTurns = new ModelTurnLog(() => ports.log());
  }

  get session(): LiveSession {
    return this.opened.session;
  }

  /**
   * Attaches the session to the connection and says setupComplete (with the first handle when
   * resumption was asked). `cutOnOpen`: a cut turn a fault asked for before the session existed.
   */
  attach(config: SessionConfig, cutOnOpen: number | undefined): void {
    const { ctx, connection, outbound } = this.ports;
    const opened = this.opened;
    const session = opened.session;
    const log = this.ports.log();
    const resumption = new Resumption({
      session,
      asked: config.resumption,
      commit: (snapshot, index, now) => opened.checkpointer.commit(snapshot, index, now),
      issue: (target) => ctx.handles.issue(target, this.ports.principal),
      send: (m) => outbound.send(m),
      close: (spec, detail) => connection.close(spec, detail),
      now: () => ctx.clock.now(),
      log,
    });
    const lifetime = new SessionLifetime(
      {
        clock: ctx.clock,
        lifetimes: ctx.lifetimes,
        sessionCapClose: ctx.sessionCapClose,
        store: ctx.store,
        connection,
        send: (m) => outbound.send(m),
        log,
      },
      {
        sessionId: session.id,
        leaseToken: opened.checkpointer.leaseToken,
        compression: session.config.compression !== undefined,
        connectedMsBefore: opened.connectedMsBefore,
        videoSeen: opened.videoSeen,
        attachedAt: this.attachedAt,
      },
    );
    const voice = new VoiceInput(session, {
      ...ctx.voice,
      transcribeForEngine: ctx.engine.needsTranscripts === true,
      engineTranscribes: ctx.engine.hearsInput === true,
      log: ctx.log,
      observeLag: (s) => ctx.metrics.ingestLag.observe(s),
    });
    // Set before the session is wired: a close from here on stops the resumption and the lifetime.
    this.attached = { resumption, lifetime, voice };
    if (cutOnOpen !== undefined) session.cutNextTurn(cutOnOpen);
    session.attach({
      send: (m) => {
        this.modelTurns.sent(m);
        outbound.send(m);
      },
      ready: () => outbound.ready(),
      close: (spec, detail) => connection.close(spec, detail),
      turnCompleted: () => {
        ctx.metrics.turns.inc();
        resumption.turnCompleted();
      },
      settled: () => resumption.turnCompleted(),
      videoReceived: () => lifetime.videoReceived(),
    });
    ctx.registry.attach(session, connection);
    this.ports.tap?.session(session.id, opened.resumed);
    outbound.send(msg.setupComplete(ctx.sessionIdInSetupComplete ? session.id : undefined));
    this.ports.log().info({ model: config.model, modality: config.modality, resumed: opened.resumed, seq: opened.seq }, opened.resumed ? 'session resumed' : 'session started');
    // The handle of the checkpoint the session starts from; nothing of this connection is consumed yet.
    if (config.resumption) resumption.start(opened.seq);
    lifetime.schedule();
  }

  /**
   * Client message `index`, arrived at `arrivedAt` (performance.now()), applied to the session;
   * its audio goes to the ears. A message whose handling throws closes the connection (1011).
   */
  handle(index: number, message: ClientMessage, arrivedAt: number): void {
    const attached = this.attached;
    if (!attached) return;
    const { resumption, voice } = attached;
    // Resumption records the message as applied once it is: a barge-in's update waits for that.
    resumption.handling();
    try {
      this.opened.session.handle(message);
      if (message.kind === 'realtimeInput') voice.hear(message.realtimeInput, arrivedAt);
    } catch (err) {
      this.ports.log().error({ err: errorMessage(err), kind: message.kind }, 'message handling failed');
      this.ports.connection.close(CloseReasons.internal, 'internal error');
      return;
    }
    resumption.handled(index);
  }

  /** Client message `index` changes nothing (a non-protocol message, ignored): consumed all the same. */
  skip(index: number): void {
    this.attached?.resumption.skip(index);
  }

  /** The connection is closing: no goAway, no session end, no resumption update from now on. */
  stop(): void {
    this.attached?.lifetime.stop();
    this.attached?.resumption.stop();
  }

  /**
   * Ends the session's life on this connection and hands it back to the store (detach-retry.ts).
   * Returns the final write: nothing of the session is written after it; shutdown waits for it.
   */
  release(): Promise<void> {
    const { ctx, connection } = this.ports;
    const opened = this.opened;
    const now = ctx.clock.now();
    // The state at the close, when it is a resumable one: what the control API shows of the session
    // afterwards. Clients resume from the handles they were sent, never from this one.
    const appliedIndex = this.attached?.resumption.appliedIndex ?? 0;
    if (opened.session.resumable) void opened.checkpointer.commit(opened.session.snapshot(), appliedIndex, now).catch(() => undefined);
    opened.session.end();
    this.attached?.voice.close();
    ctx.registry.detach(opened.session, connection);
    const request = {
      sessionId: opened.session.id,
      leaseToken: opened.checkpointer.leaseToken,
      at: now,
      connectedMs: now - this.attachedAt,
      videoSeen: this.attached?.lifetime.videoSeen ?? opened.videoSeen,
    };
    const log = this.ports.log();
    const finalWrite = opened.checkpointer.settled().then(() => detachWithRetry({ store: ctx.store, log }, request));
    ctx.pendingWrites.add(finalWrite);
    void finalWrite.then(() => ctx.pendingWrites.delete(finalWrite));
    return finalWrite;
  }
}
