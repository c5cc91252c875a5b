/**
 * A raw `ws` client for protocol tests: no SDK in between, so a test can send exactly the bytes
 * it means (bad JSON, binary garbage, frames after a close) and see exactly what the server sends
 * back (frame type, encoding, close code and reason).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { Collector } from './collector.js';
import { waitFor } from './wait.js';

export const MODEL = 'models/gemini-live-2.5-flash-preview';

export const livePath = (version = 'v1beta', method = 'BidiGenerateContent'): string =>
  `/ws/google.ai.generativelanguage.${version}.GenerativeService.${method}`;

/** The setup every well-behaved test client sends: a known model, TEXT replies (no speech synthesis). */
export const TEXT_SETUP = { setup: { model: MODEL, generationConfig: { responseModalities: ['TEXT'] } } } as const;

export interface RawFrame {
  readonly data: Buffer;
  readonly isBinary: boolean;
}

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

export interface OpenOptions {
  /** Request path; default the v1beta BidiGenerateContent endpoint. */
  path?: string;
  /** Raw query string without `?`, appended as is (keys are not URL-encoded by real clients). */
  query?: string;
  headers?: Record<string, string>;
  /** Milliseconds to wait for the upgrade; default 2000. */
  timeoutMs?: number;
}

type ServerMessage = Record<string, any>;

function wsUrl(baseUrl: string, options: OpenOptions): string {
  const base = baseUrl.replace(/^http/, 'ws');
  return `${base}${options.path ?? livePath()}${options.query !== undefined ? `?${options.query}` : ''}`;
}

export class RawClient {
  /** Every frame the server sent, undecoded. */
  readonly frames: RawFrame[] = [];
  /** The frames decoded as JSON (a frame that is not JSON is recorded as `{ __notJson: text }`). */
  readonly inbox = new Collector<ServerMessage>();
  closed: CloseInfo | undefined;
  /** Errors the client socket reported (EPIPE/ECONNRESET while the server closes are expected). */
  readonly errors: Error[] = [];

  get messages(): readonly ServerMessage[] {
    return this.inbox.items;
  }

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      this.frames.push({ data: buf, isBinary });
      const text = buf.toString('utf8');
      let message: ServerMessage;
      try {
        message = JSON.parse(text) as ServerMessage;
      } catch {
        message = { __notJson: text };
      }
      this.inbox.push(message);
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString('utf8') };
      this.inbox.end(`socket closed (${code} ${JSON.stringify(this.closed.reason)})`);
    });
    ws.on('error', (err) => this.errors.push(err));
  }

  /** Opens a socket and resolves once the upgrade succeeded. */
  static open(baseUrl: string, options: OpenOptions = {}): Promise<RawClient> {
    const ws = new WebSocket(wsUrl(baseUrl, options), { headers: options.headers, perMessageDeflate: false });
    const client = new RawClient(ws);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error('timed out waiting for the upgrade'));
      }, options.timeoutMs ?? 2000);
      ws.once('open', () => {
        clearTimeout(timer);
        resolve(client);
      });
      ws.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  /** Opens, sends `setup` and waits for `setupComplete`. */
  static async connect(baseUrl: string, setup: object = TEXT_SETUP, options: OpenOptions = {}): Promise<RawClient> {
    const client = await RawClient.open(baseUrl, options);
    client.send(setup);
    await client.waitFor((m) => m.setupComplete !== undefined);
    return client;
  }

  /** Sends a value as a compact JSON text frame, as every known client does. */
  send(value: unknown): void {
    this.ws.send(JSON.stringify(value));
  }

  /** Sends raw bytes or text, as a text frame unless `binary`. */
  sendRaw(data: string | Buffer, binary = typeof data !== 'string'): void {
    this.ws.send(data, { binary });
  }

  /** Writes a client frame straight to the TCP socket, bypassing the ws state machine. */
  writeFrameToSocket(opcode: number, payload: Buffer): void {
    const socket = (this.ws as unknown as { _socket: Socket | null })._socket;
    if (!socket || socket.destroyed) return;
    socket.write(encodeMaskedFrame(opcode, payload));
  }

  /** Resolves with the first message (received or future) at index ≥ `from` that matches. */
  waitFor(pred: (m: ServerMessage) => boolean, timeoutMs = 3000, from = 0): Promise<ServerMessage> {
    return this.inbox.next(pred, { what: 'a message', from, timeoutMs });
  }

  /**
   * Sends a user text turn and resolves with the model's text once `turnComplete` arrives.
   * Only messages received after the call are considered.
   */
  async turn(text: string, timeoutMs = 3000): Promise<string> {
    const from = this.messages.length;
    this.send({ clientContent: { turns: [{ role: 'user', parts: [{ text }] }], turnComplete: true } });
    await this.waitFor((m) => m.serverContent?.turnComplete === true, timeoutMs, from);
    return this.textFrom(from);
  }

  /** Text of the `modelTurn` parts received from index `from` on. */
  textFrom(from = 0): string {
    return this.messages
      .slice(from)
      .flatMap((m) => (m.serverContent?.modelTurn?.parts ?? []) as { text?: string; thought?: boolean }[])
      .map((p) => (p.thought ? '' : (p.text ?? '')))
      .join('');
  }

  /** Resolves with the close code and reason the client saw; rejects after `timeoutMs`. */
  waitClose(timeoutMs = 3000): Promise<CloseInfo> {
    return waitFor(() => this.closed, { what: 'the server to close the socket', timeoutMs, on: this.inbox.changes });
  }

  /** Resolves true if the socket is still open after `ms` (it did not get closed meanwhile). */
  async staysOpen(ms: number): Promise<boolean> {
    await new Promise((r) => setTimeout(r, ms));
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Closes (if needed) and waits for the close to complete; never throws. */
  async dispose(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000);
    try {
      await this.waitClose(1000);
    } catch {
      this.ws.terminate();
    }
  }
}

/** A masked client frame (RFC 6455 §5.2), FIN set. */
export function encodeMaskedFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const header: number[] = [0x80 | opcode];
  if (len < 126) header.push(0x80 | len);
  else if (len < 65536) header.push(0x80 | 126, len >> 8, len & 0xff);
  else throw new RangeError('frame too large for this helper');
  const mask = randomBytes(4);
  const masked = Buffer.alloc(len);
  for (let i = 0; i < len; i++) masked[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([Buffer.from(header), mask, masked]);
}

/**
 * Attempts an upgrade that the server is expected to refuse; resolves with the HTTP status, or
 * rejects if the upgrade succeeds.
 */
export function upgradeStatus(baseUrl: string, options: OpenOptions = {}): Promise<number> {
  const ws = new WebSocket(wsUrl(baseUrl, options), { headers: options.headers, perMessageDeflate: false });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('timed out waiting for the upgrade response'));
    }, options.timeoutMs ?? 2000);
    ws.on('unexpected-response', (req, res: IncomingMessage) => {
      clearTimeout(timer);
      resolve(res.statusCode ?? 0);
      res.resume();
      req.destroy();
    });
    ws.on('open', () => {
      clearTimeout(timer);
      ws.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    ws.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/**
 * A session opened before a test misbehaves on the same server: afterwards it must still be open,
 * must have received nothing it did not ask for, and must still answer a turn.
 */
export class Witness {
  private seen = 0;
  private checks = 0;

  private constructor(readonly client: RawClient) {
    this.seen = client.messages.length;
  }

  static async open(baseUrl: string, options: OpenOptions = {}): Promise<Witness> {
    return new Witness(await RawClient.connect(baseUrl, TEXT_SETUP, options));
  }

  async assertUndisturbed(): Promise<void> {
    const c = this.client;
    if (c.closed) throw new Error(`the witness session was closed: ${c.closed.code} ${JSON.stringify(c.closed.reason)}`);
    const unsolicited = c.messages.slice(this.seen);
    if (unsolicited.length > 0) throw new Error(`the witness session received unsolicited messages: ${JSON.stringify(unsolicited)}`);
    const n = ++this.checks;
    const text = await c.turn(`witness check ${n}`);
    if (!text.includes(`You said: witness check ${n}`)) throw new Error(`the witness got an unexpected reply: ${JSON.stringify(text)}`);
    this.seen = c.messages.length;
  }

  dispose(): Promise<void> {
    return this.client.dispose();
  }
}
