/**
 * The sending side of one connection: encodes server messages into binary frames and applies
 * backpressure, so a slow client makes generation wait instead of growing memory (invariant 6).
 */
import type { WebSocket } from 'ws';
import { encodeServerMessage } from '../protocol/encode.js';
import type { ServerMessage } from '../protocol/server-messages.js';

export class Outbound {
  private waiters: (() => void)[] = [];
  sent = 0;

  constructor(
    private readonly ws: WebSocket,
    private readonly highWaterMark: number,
    private readonly onSend?: (message: ServerMessage) => void,
  ) {
    ws.once('close', () => this.release());
  }

  send(message: ServerMessage): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.onSend?.(message);
    this.sent++;
    this.ws.send(encodeServerMessage(message), { binary: true }, () => this.checkDrained());
  }

  ready(): Promise<void> {
    if (this.ws.readyState !== this.ws.OPEN || this.ws.bufferedAmount < this.highWaterMark) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private checkDrained(): void {
    if (this.ws.readyState !== this.ws.OPEN || this.ws.bufferedAmount < this.highWaterMark) this.release();
  }

  private release(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
