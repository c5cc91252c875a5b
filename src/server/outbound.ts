/**
 * The sending side of one connection: encodes server messages into binary frames and applies
 * backpressure, so a slow client makes generation wait instead of growing memory (invariant 6).
 * An injected delay holds messages back here, in order, on the server's clock.
 */
import type { WebSocket } from 'ws';
import { encodeServerMessage } from '../protocol/encode.js';
import type { ServerMessage } from '../protocol/server-messages.js';
import type { Clock, Timer } from '../session/clock.js';

export interface DelayPolicy {
  readonly ms: number;
  readonly jitterMs: number;
  /** Stop delaying new messages once a turnComplete is sent; otherwise for the connection's life. */
  readonly untilTurnComplete: boolean;
}

interface Corkable {
  cork(): void;
  uncork(): void;
}

/** Held-back messages beyond which generation waits, as it would for a slow socket. */
const MAX_HELD = 64;

export class Outbound {
  private waiters: (() => void)[] = [];
  private delay: DelayPolicy | undefined;
  private readonly held: { message: ServerMessage; due: number }[] = [];
  private heldTimer: Timer | undefined;
  private lastDue = 0;
  /** The socket while corked (see coalesce). */
  private corked: Corkable | undefined;
  sent = 0;

  constructor(
    private readonly ws: WebSocket,
    private readonly highWaterMark: number,
    private readonly clock: Clock,
    private readonly onSend?: (message: ServerMessage) => void,
    private readonly random: () => number = Math.random,
  ) {
    ws.once('close', () => {
      this.heldTimer?.cancel();
      this.held.length = 0;
      this.release();
    });
  }

  send(message: ServerMessage): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    // Once anything is held, everything after it queues too: order is the wire's promise.
    if (this.delay === undefined && this.held.length === 0) {
      this.write(message);
      return;
    }
    const now = this.clock.now();
    const wait = this.delay ? this.delay.ms + this.random() * this.delay.jitterMs : 0;
    this.lastDue = Math.max(this.lastDue, now + wait);
    this.held.push({ message, due: this.lastDue });
    if (this.delay?.untilTurnComplete && 'serverContent' in message && message.serverContent.turnComplete) this.delay = undefined;
    this.scheduleHeld(now);
  }

  /** Holds back the messages sent from now on (an injected fault). */
  delayMessages(policy: DelayPolicy): void {
    this.delay = policy;
  }

  ready(): Promise<void> {
    if (this.ws.readyState !== this.ws.OPEN) return Promise.resolve();
    if (this.ws.bufferedAmount < this.highWaterMark && this.held.length < MAX_HELD) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private write(message: ServerMessage): void {
    this.onSend?.(message);
    this.sent++;
    this.coalesce();
    this.ws.send(encodeServerMessage(message), { binary: true }, () => this.checkDrained());
    // The end of a turn goes out now: the checkpoint commit that follows may block the loop (SQLite
    // waits for its fsync synchronously), and the client must not wait for it.
    if ('serverContent' in message && message.serverContent.turnComplete) this.flush();
  }

  /**
   * Frames sent in one turn of the event loop leave in one write: a turn's messages (its text,
   * generationComplete, turnComplete) are usually produced together, and on loopback each socket
   * write costs more than a frame's whole processing. The socket is corked until the loop's check
   * phase (or the turn's end), so nothing waits for a timer or for more input.
   */
  private coalesce(): void {
    if (this.corked) return;
    // ws keeps the net.Socket private; without one (a test double) frames go out one by one.
    const socket = (this.ws as unknown as { _socket?: Corkable })._socket;
    if (!socket) return;
    this.corked = socket;
    socket.cork();
    setImmediate(() => this.flush());
  }

  private flush(): void {
    const socket = this.corked;
    if (!socket) return;
    this.corked = undefined;
    socket.uncork();
  }

  private scheduleHeld(now: number): void {
    if (this.heldTimer || this.held.length === 0) return;
    this.heldTimer = this.clock.setTimer(Math.max(0, this.held[0]!.due - now), () => {
      this.heldTimer = undefined;
      const at = this.clock.now();
      while (this.held.length > 0 && this.held[0]!.due <= at && this.ws.readyState === this.ws.OPEN) this.write(this.held.shift()!.message);
      this.checkDrained();
      this.scheduleHeld(at);
    });
  }

  private checkDrained(): void {
    const open = this.ws.readyState === this.ws.OPEN;
    if (!open || (this.ws.bufferedAmount < this.highWaterMark && this.held.length < MAX_HELD)) this.release();
  }

  private release(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
