/**
 * The session lifetime of one connection's session (PROTOCOL.md §5.2): without context window
 * compression a session lasts 15 min of connected time, 2 min once video was seen, counted over
 * all its connections. goAway goes out at the cap minus the notice; at the cap the connection is
 * closed and the session ends for good in the store, so that its handles stop working.
 */
import type { CloseSpec } from '../protocol/close-codes.js';
import { msg, type ServerMessage } from '../protocol/server-messages.js';
import { errorMessage } from '../errors.js';
import type { Clock, Timer } from '../session/clock.js';
import { deadlineFor, sessionTimeLeft, type Lifetimes } from '../session/lifetimes.js';
import { FencedError, type SessionStore } from '../session/store.js';
import type { AttachedConnection } from './attached-connection.js';

export interface SessionLifetimeDeps {
  readonly clock: Clock;
  readonly lifetimes: Lifetimes;
  readonly sessionCapClose: CloseSpec;
  readonly store: Pick<SessionStore, 'end'>;
  readonly connection: Pick<AttachedConnection, 'closeAndSettle'>;
  /** Sends on the connection (it is set up: the lifetime starts at setupComplete). */
  send(message: ServerMessage): void;
  readonly log: { info(obj: object, message: string): void; error(obj: object, message: string): void };
}

export interface LifetimeStart {
  readonly sessionId: string;
  readonly leaseToken: number;
  /** Compression lifts the cap. */
  readonly compression: boolean;
  /** Connected time of earlier connections. */
  readonly connectedMsBefore: number;
  readonly videoSeen: boolean;
  /** When this connection attached it. */
  readonly attachedAt: number;
}

export class SessionLifetime {
  private timers: Timer[] = [];
  private video: boolean;
  private stopped = false;

  constructor(
    private readonly deps: SessionLifetimeDeps,
    private readonly start: LifetimeStart,
  ) {
    this.video = start.videoSeen;
  }

  /** Video was seen in this session, before or on this connection (the store keeps it). */
  get videoSeen(): boolean {
    return this.video;
  }

  /** Sets (or sets again) the goAway and the end for the time the session has left. */
  schedule(): void {
    if (this.stopped) return;
    this.cancel();
    const { clock, lifetimes } = this.deps;
    const connectedMs = this.start.connectedMsBefore + (clock.now() - this.start.attachedAt);
    const left = sessionTimeLeft(lifetimes, this.start.compression, this.video, connectedMs);
    if (left === undefined) return;
    const { goAwayInMs, closeInMs } = deadlineFor(left, lifetimes.goAwayNoticeMs);
    this.timers.push(
      clock.setTimer(goAwayInMs, () => {
        this.deps.send(msg.goAway(closeInMs - goAwayInMs));
        this.deps.log.info({ timeLeftMs: closeInMs - goAwayInMs }, 'goAway sent: session lifetime ends');
      }),
      clock.setTimer(closeInMs, () => void this.end()),
    );
  }

  /** The first video frame: the shorter lifetime applies from now on. */
  videoReceived(): void {
    if (this.video) return;
    this.video = true;
    this.schedule();
  }

  /** The connection closed: no goAway, no end from now on. */
  stop(): void {
    this.stopped = true;
    this.cancel();
  }

  private cancel(): void {
    for (const t of this.timers) t.cancel();
    this.timers = [];
  }

  /** The session lifetime is over: the session ends for good and its handles stop working. */
  private async end(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.deps.connection.closeAndSettle(this.deps.sessionCapClose, 'session lifetime reached');
      await this.deps.store.end(this.start.sessionId, this.start.leaseToken, this.deps.clock.now());
    } catch (err) {
      if (!(err instanceof FencedError)) this.deps.log.error({ err: errorMessage(err) }, 'ending the session failed');
    }
  }
}
